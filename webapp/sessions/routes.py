"""Sign-in sessions: each user sees and ends their own; an admin sees everyone's and signs
a user out everywhere."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from ..access.events import record_access
from ..audit.ids import is_ulid
from ..audit.records import get_record
from ..auth.account import lifetimes
from ..auth.roles import role_required
from ..domain import users
from ..extensions import db
from . import store

bp = Blueprint("sessions", __name__)


def _page(user_ids: list[str], mine: bool) -> str:
    """The open sessions of these users, with their accounts."""
    found = {uid: get_record(db.session, users, uid) for uid in user_ids}
    accounts: dict[str, dict[str, Any]] = {
        uid: record for uid, record in found.items() if record is not None}
    return render_template("sessions/index.html", mine=mine, accounts=accounts,
                           open=store.open_sessions(db.session, accounts, lifetimes()),
                           current=session.get("sid"))


@bp.get("/account/sessions")
@role_required("viewer")
def mine() -> str:
    return _page([current_user.id], mine=True)


@bp.post("/account/sessions/<sid>/end")
@role_required("viewer")
def end_mine(sid: str) -> Response:
    if not is_ulid(sid) or store.session_user(db.session, sid) != current_user.id:
        abort(404)
    if store.end(db.session, sid, store.LOGGED_OUT):
        record_access("sessions_ended", f"{current_user.username} signed out a session",
                      username=current_user.username, account_id=current_user.id,
                      session_id=sid, detail="1 session")
    if sid == session.get("sid"):
        logout_user()
        session.clear()
        flash("You are logged out.", "info")
        return redirect(url_for("auth.login"))
    flash("That session is signed out.", "success")
    return redirect(url_for(".mine"))


@bp.post("/account/sessions/end-others")
@role_required("viewer")
def end_others() -> Response:
    count = store.end_all(db.session, current_user.id, store.LOGGED_OUT, keep=session.get("sid"))
    if count:
        record_access("sessions_ended",
                      f"{current_user.username} signed out their other sessions",
                      username=current_user.username, account_id=current_user.id,
                      detail=f"{count} session(s)")
    flash(f"Signed out {count} other session(s).", "success")
    return redirect(url_for(".mine"))


@bp.get("/sessions")
@role_required("admin")
def everyone() -> str:
    return _page(store.users_signed_in(db.session), mine=False)


@bp.post("/users/<user_id>/sessions/end")
@role_required("admin")
def end_everywhere(user_id: str) -> Response:
    account = get_record(db.session, users, user_id) if is_ulid(user_id) else None
    if account is None:
        abort(404)
    count = store.end_all(db.session, user_id, f"{store.SIGNED_OUT} {current_user.username}")
    record_access("sessions_ended",
                  f"{current_user.username} signed {account['username']} out everywhere",
                  username=account["username"], detail=f"{count} session(s)")
    flash(f"Signed out {count} session(s) of that user everywhere.", "success")
    if user_id == current_user.id:
        logout_user()
        session.clear()
        return redirect(url_for("auth.login"))
    return redirect(url_for(".everyone"))
