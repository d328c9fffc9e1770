"""A record's page (current state, version vector, its own timeline, its state as of
any event) and "revert to this version", which is a new audited update."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import diffs, zones
from ..along import Along, on, value
from ..audit.commands import UpdateRecord
from ..audit.compaction.points import (
    COMPACTED_THROUGH,
    CompactedRecord,
    compacted_message,
    compacted_record,
    compacted_through,
    compacted_through_among,
)
from ..audit.entity import Entity
from ..audit.errors import IntegrityRuleError, ParamsError, StaleVersionError
from ..audit.ids import is_ulid
from ..audit.records import Joinable, get_record
from ..audit.store import decode_cursor, encode_cursor
from ..audit.transaction import Record
from ..auth.roles import has_role, role_required
from ..chrome import node_names
from ..domain import edit_role, registry
from ..entities.lookup import editable_or_403, entity_or_404
from ..extensions import db
from ..runtime import auditor
from ..templating import macro, record_title
from ..timeline import rows
from ..timeline.fragments import page_or_block
from . import history, listing

bp = Blueprint("records", __name__)

BLOCKS = {"record-more": "rows"}


def _ulid(text: str) -> str:
    if not is_ulid(text.upper()):
        abort(404)
    return text.upper()


def _fields(entity: Entity, *states: dict[str, Any] | None) -> diffs.Fields:
    """The entity's fields, with titles for the records these states reference."""
    return diffs.Fields.of(entity, rows.ref_titles(db.session(), ((entity, s) for s in states)),
                           zones.admin_zone())


# Read on every view, along with the reader (webapp/along.py): the record, and whether
# the sources of the fields remembered from an earlier view are still held
# (history.field_sources).
GENERATION = Along((COMPACTED_THROUGH,), compacted_through_among, compacted_through)


@cache
def _record_along(entity: str) -> Along[tuple[Record | None]]:
    """The record a page shows, read along; in a 1-tuple, as None says "no such record"."""
    read = Joinable(registry.get(entity), "along_record_", "along_record_id")
    return Along(read.columns, lambda row: (read.among(row),), joins=(read.join,))


def _record_given(args: Mapping[str, Any]) -> tuple[tuple[Along[Any], ...], dict[str, Any]]:
    """The record read along, for a URL the view serves (else it 404s: nothing to read)."""
    entity, record_id = args.get("entity"), args.get("record_id")
    if entity not in registry or registry.get(entity).system or \
            not isinstance(record_id, str) or not is_ulid(record_id.upper()):
        return (), {}
    return (_record_along(entity),), {"along_record_id": record_id.upper()}


on("records.show", GENERATION, given=_record_given)


@bp.get("/e/<entity>/<record_id>")
@role_required("viewer")
def show(entity: str, record_id: str) -> Response:
    return _render(entity_or_404(entity), _ulid(record_id))


def _render(entity: Entity, record_id: str, status: int = 200,
            error: str | None = None) -> Response:
    try:
        before = decode_cursor(request.args.get("before"))
    except ValueError:
        abort(400, description="The page cursor is not valid; start again from the newest.")
    session = db.session()
    current, = value(_record_along(entity.name),
                     lambda s: (get_record(s, entity, record_id),))
    found = history.load(session, registry, entity, record_id, current, before,
                         rows.page_size())
    if not found.exists:
        abort(404)
    at = None
    if request.args.get("at"):
        at_id = request.args["at"].strip().upper()
        at = history.event_of(session, registry, entity, record_id, at_id) \
            if is_ulid(at_id) else None
        note = None if at is not None else (
            found.compacted or compacted_record(session, entity.name, record_id))
        if note is not None:
            abort(410, description=f"That event is not kept: {compacted_message(note)}"
                                   "; the record's page shows the state it had then.")
        if at is None:
            abort(404, description="That event is not part of this record's history.")
    can_revert = found.current is not None and has_role(current_user, edit_role(entity.name))
    shown = history.fields_of(entity, found.last_state)  # no system columns as fields
    nodes = node_names()
    urls = listing.RecordUrls.of(entity.name, record_id)
    # The records the current state names are titled with the rows' labels.
    listed, sources, titles = listing.rows_and_sources(
        session, found.stored, nodes, urls,
        lambda: macro("records/_history.html", "history_entry"),
        history.field_sources(session, registry, entity, found, value(GENERATION)),
        rows.wanted_refs([(entity, shown)]))
    context: dict[str, Any] = {
        "entity": entity, "record_id": record_id, "history": found,
        "rows": listed, "urls": urls,
        "state": diffs.state_diff(diffs.Fields.of(entity, titles, zones.admin_zone()), None,
                                  shown),
        "title": record_title(entity.name, found.last_state, record_id), "node_names": nodes,
        "sources": sources,
        "error": error, "at": None, "paged": before is not None,
        "compacted": _compacted(entity, found.compacted),
        "revertible": {r.event_id for r in listed if can_revert
                       and history.revert_params(entity, r.revert_to, found.current)},
        "next_url": url_for(".show", entity=entity.name, record_id=record_id,
                            before=encode_cursor(found.next_cursor)) if found.next_cursor else None,
    }
    if at is not None:
        then = history.state_after(at)
        fields = _fields(entity, then, found.current)
        context["at"] = {
            "event": at, "row": rows.build(session, [at], nodes)[0],
            "state": diffs.state_diff(fields, None, then),
            # What a revert to this event would change in the current record.
            "to_current": diffs.state_diff(fields, history.fields_of(entity, found.current),
                                           then) if found.current else None,
        }
    return page_or_block("records/show.html", BLOCKS, status, **context)


def _compacted(entity: Entity, note: CompactedRecord | None) -> dict[str, Any] | None:
    """Where the record's history was cut, and its state then."""
    if note is None:
        return None
    then = history.fields_of(entity, note.state)
    return {"message": compacted_message(note).capitalize(), "op": note.op,
            "state": diffs.state_diff(_fields(entity, then), None, then) if then else None}


@bp.post("/e/<entity>/<record_id>/revert/<event_id>")
@role_required("editor")
def revert(entity: str, record_id: str, event_id: str) -> Response:
    decl, rid = editable_or_403(entity), _ulid(record_id)
    event = history.event_of(db.session(), registry, decl, rid, _ulid(event_id))
    note = compacted_record(db.session(), decl.name, rid) if event is None else None
    if note is not None:
        return _render(decl, rid, 409, f"That version cannot be reverted to: "
                                       f"{compacted_message(note)}. Nothing was written.")
    if event is None:
        abort(404, description="That event is not part of this record's history.")
    try:
        expected = int(request.form.get("expected_version", ""))
    except ValueError:
        abort(400, description="The form lacks the record version it was built on; reload it.")
    if event.post_state is None:
        abort(400, description="That event deleted the record; pick a version before it.")
    current = get_record(db.session(), decl, rid)
    if current is None:
        return _render(decl, rid, 409, f"This {decl.label.lower()} was deleted; it cannot be "
                                       "reverted. Nothing was written.")
    params = history.revert_params(decl, event.post_state, current)
    show_url = url_for(".show", entity=decl.name, record_id=rid)
    if not params:
        flash("The record already has the values of that version; nothing to revert.", "info")
        return redirect(show_url, 303)
    command = UpdateRecord(decl.name, rid, expected, params, meta={"revert_of": event.event_id})
    try:
        result = auditor().execute(db.session(), command)
    except StaleVersionError as exc:
        now = exc.current["version"] if exc.current else "deleted"
        return _render(decl, rid, 409, (
            f"This {decl.label.lower()} changed since you loaded the page: it is now at version "
            f"{now}, you saw version {expected}. Nothing was written; review its history below "
            "and revert again if you still want to."))
    except (ParamsError, IntegrityRuleError) as exc:
        return _render(decl, rid, 409, f"The revert was refused: {exc}. Nothing was written.")
    version = result.record["version"] if result.record else "?"
    labels = diffs.Fields.of(decl).labels
    flash(f"Reverted {', '.join(labels[name] for name in params)} to that version; "
          f"the record is now at version {version}.", "success")
    return redirect(show_url, 303)
