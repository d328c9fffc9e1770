"""List, create, edit and delete any registered entity. Every change is one audited
command; the views only read the form, run the command and render the outcome."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from ..audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from ..audit.errors import IntegrityRuleError, StaleVersionError
from ..audit.ids import is_ulid, new_ulid
from ..audit.replication import list_conflicts
from ..auth.roles import role_required
from ..bidi import isolated
from ..extensions import db
from ..forms_factory import build_form, initial_data, submitted_params
from ..runtime import auditor
from ..templating import is_htmx, record_title
from . import listing, outcomes
from .changes import asked_changes, state_at
from .forms import DeleteForm
from .lookup import editable_or_403, entity_or_404, find_record, record_or_404, used_by

bp = Blueprint("entities", __name__, url_prefix="/e")


@bp.get("/<entity>/")
@role_required("viewer")
def index(entity: str) -> Response:
    ent = entity_or_404(entity)
    query = listing.parse_query(ent, request.args)
    found = listing.fetch(db.session(), ent, query)
    context = {"entity": ent, "query": query, "page": found.page, "total": found.total,
               "ref_titles": found.ref_titles, "deleted_refs": found.deleted_refs,
               "columns": listing.columns(ent)}
    if is_htmx():
        response = make_response(render_template("entities/_results.html", **context))
    else:
        filters = listing.filter_options(db.session(), ent)
        response = make_response(render_template("entities/index.html", filters=filters,
                                                 **context))
    response.vary.add("HX-Request")  # the fragment and the page must not share a cache slot
    return response


@bp.route("/<entity>/new", methods=["GET", "POST"])
@role_required("editor")
def new(entity: str) -> outcomes.Page:
    ent = editable_or_403(entity)
    key = request.args.get("key", "")
    if request.method == "GET" and not is_ulid(key):
        # The key goes in the page's URL, so the browser's Back returns to a form with the
        # same key (a re-fetch would otherwise make a new one) and a second Create repeats.
        return redirect(url_for("entities.new", entity=ent.name, key=new_ulid()))
    form = build_form(db.session(), ent, editing=False,
                      data={"idempotency_key": key} if request.method == "GET" else None)
    if form.validate_on_submit():
        command = CreateRecord(ent.name, submitted_params(form, ent),
                               idempotency_key=form.idempotency_key.data)
        done = outcomes.submit(ent, form, command, "created")
        if done is not None:
            return done
    status = 422 if form.is_submitted() else 200
    return render_template("entities/form.html", entity=ent, form=form, record=None), status


@bp.route("/<entity>/<record_id>/edit", methods=["GET", "POST"])
@role_required("editor")
def edit(entity: str, record_id: str) -> outcomes.Page:
    ent = editable_or_403(entity)
    if request.method == "GET":
        record = record_or_404(ent, record_id)
        data = {**initial_data(ent, record), "expected_version": record["version"]}
        form = build_form(db.session(), ent, editing=True, data=data)
        disputes = list_conflicts(db.session(), "open", entity=ent.name, record_id=record_id)
        return render_template("entities/form.html", entity=ent, form=form, record=record,
                               disputes=disputes), 200
    # A missing record still goes to the core: it may be a repeat (replayed) or a delete
    # that happened meanwhile (a 409 that says so), and only the core can tell.
    current = find_record(ent, record_id)
    form = build_form(db.session(), ent, editing=True)
    if form.validate():
        version = form.expected_version.data
        loaded = state_at(db.session(), ent, record_id, version, current)
        asked = asked_changes(ent, submitted_params(form, ent), loaded)
        command = UpdateRecord(ent.name, record_id, version, asked,
                               idempotency_key=form.idempotency_key.data)
        try:
            done = outcomes.submit(ent, form, command, "saved")
        except StaleVersionError as exc:
            return outcomes.stale_edit(ent, loaded, asked, exc.current)
        if done is not None:
            return done
    if current is None:
        return outcomes.deleted_meanwhile(ent)
    return render_template("entities/form.html", entity=ent, form=form, record=current), 422


@bp.route("/<entity>/<record_id>/delete", methods=["GET", "POST"])
@role_required("editor")
def delete(entity: str, record_id: str) -> outcomes.Page:
    ent = editable_or_403(entity)
    form = DeleteForm()
    if request.method == "GET" or not form.validate():
        record = record_or_404(ent, record_id)
        fresh = DeleteForm(formdata=None, data={"expected_version": record["version"]})
        if request.method == "POST":
            fresh.form_errors.append("The confirmation was incomplete. Check and confirm again.")
        status = 200 if request.method == "GET" else 422
        return render_template("entities/delete.html", entity=ent, form=fresh, record=record,
                               changes=[], used_by=used_by(ent, record_id)), status
    # No 404 before the command: a repeated delete must find its first result.
    command = DeleteRecord(ent.name, record_id, form.expected_version.data,
                           idempotency_key=form.idempotency_key.data)
    try:
        result = auditor().execute(db.session(), command)
    except StaleVersionError as exc:
        return outcomes.stale_delete(ent, form, exc.current)
    except IntegrityRuleError as exc:
        users = used_by(ent, record_id)
        form.form_errors.append("Nothing was deleted: it is still used (see below)." if users
                                else str(exc))
        record = record_or_404(ent, record_id)
        return render_template("entities/delete.html", entity=ent, form=form, record=record,
                               changes=[], used_by=users), 409
    before = result.event.pre_state if result.event else None
    flash(Markup("{} “{}” deleted.").format(
        ent.label, isolated(record_title(ent.name, before, record_id))), "success")
    return redirect(url_for("entities.index", entity=ent.name))
