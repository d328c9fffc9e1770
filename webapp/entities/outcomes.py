"""How a form submission ends: saved (redirect), refused with the reason on the form, or
refused because the record changed under it (409 with what changed since, and a way to
go on from the current version)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from ..audit.commands import Command
from ..audit.entity import Entity
from ..audit.errors import IdempotencyKeyReuseError, ParamsError
from ..audit.ids import new_ulid
from ..auth.account import keep_signed_in
from ..bidi import isolated
from ..errors import render_error
from ..extensions import db
from ..forms_factory import CommandForm, apply_errors, build_form, initial_data
from ..runtime import auditor
from ..templating import record_title
from .changes import changes_since, state_at
from .forms import DeleteForm

Page = Response | tuple[str, int]
RESUBMITTED = "This form was already used to save different values. Check them and save again."


def submit(ent: Entity, form: CommandForm, command: Command, verb: str) -> Response | None:
    """Run the form's command: the saved page, or None once the refusal is on the form.
    A StaleVersionError is left to the caller (create and edit answer it differently)."""
    try:
        result = auditor().execute(db.session(), command)
    except ParamsError as exc:
        apply_errors(form, exc.errors)
    except IdempotencyKeyReuseError:
        form.form_errors.append(RESUBMITTED)
        form.idempotency_key.data = new_ulid()
    else:
        return saved(ent, result.record, verb, result.replayed)
    return None


def saved(ent: Entity, record: dict[str, Any] | None, verb: str, replayed: bool) -> Response:
    assert record is not None
    if record["id"] == getattr(current_user, "id", None) and record.get("active"):
        keep_signed_in(record)  # this session survives its own password change; others end
    if replayed:
        flash("This form was already submitted; here is the saved result.", "info")
    else:
        flash(Markup("{} “{}” {}.").format(
            ent.label, isolated(record_title(ent.name, record, record["id"])), verb), "success")
    return redirect(url_for("records.show", entity=ent.name, record_id=record["id"]))


def deleted_meanwhile(ent: Entity) -> Page:
    return render_error(409, f"The {ent.label.lower()} you were editing was deleted after you "
                             "opened the form, so your changes were not saved.")


def stale_edit(ent: Entity, loaded: dict[str, Any] | None, asked: dict[str, Any],
               current: dict[str, Any] | None) -> Page:
    """409: what changed since, and a form holding the user's changes on top of the
    current version, ready to re-apply (with a new idempotency key)."""
    if current is None:
        return deleted_meanwhile(ent)
    mine = {k: v for k, v in asked.items() if k not in ent.secret_fields}
    data = {**initial_data(ent, {**current, **mine}), "expected_version": current["version"],
            "idempotency_key": new_ulid()}
    form = build_form(db.session(), ent, editing=True, formdata=None, data=data)
    rows = changes_since(ent, loaded, asked, current)
    return render_template("entities/form.html", entity=ent, form=form, record=current,
                           stale=rows), 409


def stale_delete(ent: Entity, form: DeleteForm, current: dict[str, Any] | None) -> Page:
    if current is None:
        flash(f"This {ent.label.lower()} was already deleted.", "info")
        return redirect(url_for("entities.index", entity=ent.name))
    loaded = state_at(db.session(), ent, current["id"], form.expected_version.data, None)
    fresh = DeleteForm(formdata=None, data={"expected_version": current["version"]})
    changes = changes_since(ent, loaded, {}, current)
    return render_template("entities/delete.html", entity=ent, form=fresh, record=current,
                           changes=changes), 409
