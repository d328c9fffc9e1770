"""The `conflicts` pages (admins): open conflicts (filter by entity and node), resolved
ones with who resolved them, and one conflict's sides against their common ancestor.
A resolution -- one side, field by field, or an edited record -- is one audited command."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..audit import vv
from ..audit.errors import IntegrityRuleError, ParamsError, StaleVersionError
from ..audit.lookups import get_tombstone
from ..audit.records import get_record, referrers, titles
from ..audit.replication import (
    Conflict,
    ConflictClosedError,
    get_conflict,
    list_conflicts,
    resolve_conflict,
)
from ..audit.replication.models import UNIQUE_COLLISION
from ..auth.roles import role_required
from ..chrome import node_names
from ..domain import registry, users
from ..errors import render_error
from ..extensions import db
from ..forms_factory import apply_errors, build_form, initial_data, submitted_params
from ..runtime import auditor
from . import compare

bp = Blueprint("conflicts", __name__, url_prefix="/conflicts")
_ID = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
Page = Response | tuple[str, int] | str


@bp.get("")
@role_required("admin")
def index() -> str:
    names = node_names()
    entity = request.args.get("entity", "")
    node = request.args.get("node", "")
    entity = entity if entity in registry else ""
    node = node if node in names else ""
    chosen = {"entity": entity or None, "node_id": node or None}
    open_ = list_conflicts(db.session, "open", registry=registry, **chosen)
    resolved = list_conflicts(db.session, "resolved", registry=registry, **chosen)
    resolvers = titles(db.session, users, sorted({c.resolved_by for c in resolved
                                                  if c.resolved_by}))
    conflict_titles = {c.conflict_id: compare.title(c, registry.get(c.entity))
                       for c in open_ + resolved if c.entity in registry}
    return render_template("conflicts/index.html", open_conflicts=open_, resolved=resolved,
                           conflict_titles=conflict_titles,
                           entities=list(registry), names=names, entity=entity, node=node,
                           resolvers=resolvers)


def _conflict_or_404(conflict_id: str) -> Conflict:
    found = (get_conflict(db.session, conflict_id, registry=registry)
             if _ID.match(conflict_id) else None)
    if found is None or found.entity not in registry:
        abort(404, f"No conflict with id {conflict_id[:40]!r}.")
    return found


def _current(conflict: Conflict) -> tuple[dict[str, Any] | None, int]:
    """The record as it is now (None once deleted) and the version a resolution must be
    built on: the record's, or its tombstone's."""
    record = get_record(db.session, registry.get(conflict.entity), conflict.record_id)
    if record is not None:
        return record, int(record["version"])
    tomb = get_tombstone(db.session, conflict.entity, conflict.record_id, registry)
    return None, vv.version_of(tomb.vv) if tomb else 0


def _render(conflict: Conflict, form: Any = None, error: str | None = None,
            status: int = 200) -> tuple[str, int]:
    entity = registry.get(conflict.entity)
    names = node_names()
    sides = compare.side_views(conflict, names)
    current, version = _current(conflict)
    rows = compare.field_rows(conflict, entity, sides, current)
    # A delete that the references to this record would refuse is not offered.
    blockers = referrers(db.session, registry, entity, conflict.record_id) \
        if current is not None and any(s.deleted for s in sides) else []
    if form is None:  # the merged record starts as the record is now (the provisional
        # winner's values, or the renamed loser of a unique collision), else a live side
        start = current or next((s.side.state for s in sides if s.side.state), {})
        form = build_form(db.session, entity, editing=True,
                          data={**initial_data(entity, start), "expected_version": version})
    people = {s.user_id for s in conflict.sides if s.user_id} | {conflict.resolved_by or ""}
    known = titles(db.session, users, sorted(p for p in people if p))
    shown = {r.name: [v for v in [*r.values, r.current] if v] for r in rows}
    ref_titles = {name: titles(db.session, registry.get(target), shown[name])
                  for name, target in entity.refs.items()}
    return render_template("conflicts/show.html", conflict=conflict, entity=entity,
                           sides=sides, rows=rows, version=version, form=form, error=error,
                           names=names, resolver=known, side_users=known, ref_titles=ref_titles,
                           title=compare.title(conflict, entity), blockers=blockers,
                           by_field=compare.merged_fields(conflict)), status


def _number(name: str) -> int:
    text = request.form.get(name, "")
    if not compare.is_index(text):
        raise compare.ChoiceError("the form is incomplete or out of date; reload the page")
    return int(text)


@bp.get("/<conflict_id>")
@role_required("admin")
def show(conflict_id: str) -> Page:
    return _render(_conflict_or_404(conflict_id))


@bp.post("/<conflict_id>/resolve")
@role_required("admin")
def resolve(conflict_id: str) -> Page:
    conflict = _conflict_or_404(conflict_id)
    entity = registry.get(conflict.entity)
    mode = request.form.get("mode", "")
    form, values = None, None
    try:
        expected = _number("expected_version")
        if mode == "side":
            values = compare.whole_side(entity, conflict, _number("side"))
        elif mode == "fields":
            values = compare.picked_fields(entity, conflict, request.form)
        elif mode == "delete" and conflict.kind == UNIQUE_COLLISION:
            values = None  # the other record of a unique collision goes
        elif mode == "edit":
            form = build_form(db.session, entity, editing=True)
            if not form.validate():
                return _render(conflict, form, "Please correct the fields marked below.", 422)
            values = submitted_params(form, entity)
        else:
            raise compare.ChoiceError("choose how to resolve the conflict")
        result = resolve_conflict(auditor(), db.session(), conflict.conflict_id, values, expected)
    except compare.ChoiceError as exc:
        return _render(conflict, form, f"Nothing was saved: {exc}.", 400)
    except ParamsError as exc:
        if form is None:
            form = build_form(db.session, entity, editing=True, data={
                **initial_data(entity, values or {}), "expected_version": expected})
        apply_errors(form, exc.errors)
        return _render(conflict, form, "The merged record is not valid; edit it below. "
                                       "Nothing was saved.", 422)
    except StaleVersionError as exc:
        return render_template("conflicts/stale.html", conflict=conflict, reason=str(exc),
                               status=409, title="Conflict changed"), 409
    except ConflictClosedError as exc:
        return render_error(409, f"{exc} Reload the conflicts page.")
    except IntegrityRuleError as exc:  # a delete that records still using this one forbid
        return _render(conflict, form, f"Nothing was saved: {exc}.", 409)
    who = "replayed" if result.replayed else "resolved"
    flash(f"Conflict {who}: the resolution is recorded and will close it on every node "
          f"as it replicates.", "success")
    return redirect(url_for("conflicts.show", conflict_id=conflict.conflict_id))
