"""The API tokens page (admins): list, issue (the token is shown once, on the answer to
the form, never stored or flashed into the session) and revoke. CSRFProtect checks
every POST before these views run."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.roles import role_required
from ..extensions import db
from . import service
from .forms import IssueTokenForm

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")


def _page(form: IssueTokenForm, status: int = 200, issued: str | None = None) -> Response:
    # Not cached (a new token is on the page): security.py's no-store covers every page.
    return make_response(render_template("tokens/index.html", form=form,
                                         tokens=service.list_tokens(db.session()),
                                         issued=issued), status)


@bp.get("")
@role_required("admin")
def index() -> Response:
    return _page(IssueTokenForm())


@bp.post("")
@role_required("admin")
def issue() -> Response:
    form = IssueTokenForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        _, token = service.issue(db.session(), form.username.data, form.name.data,
                                 created_by=current_user.id)
    except service.TokenError as exc:
        form.username.errors.append(str(exc))
        return _page(form, 400)
    return _page(IssueTokenForm(formdata=None), 201, issued=token)


@bp.post("/<token_id>/revoke")
@role_required("admin")
def revoke(token_id: str) -> Response:
    try:
        revoked = service.revoke(db.session(), token_id)
    except service.TokenError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Revoked the token {revoked.name!r} of {revoked.username}.", "success")
    return redirect(url_for(".index"))
