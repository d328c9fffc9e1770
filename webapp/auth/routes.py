"""Log in and out. Bad credentials get one generic message; `next` only goes same-site."""

from __future__ import annotations

import logging
import math
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..access.events import record_access, tried_name
from ..audit.passwords import dummy_hash, verify_password
from ..extensions import db, login_manager
from ..sessions import store as sessions
from ..templating import is_htmx
from .account import Account, find_account, lifetimes
from .forms import LoginForm
from .rehash import upgrade_hash
from .throttle import Throttle

bp = Blueprint("auth", __name__)

BAD_LOGIN = "Unknown username or wrong password."


UNKNOWN = "unknown username"


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so both failures take the same time."""
    return dummy_hash()


def safe_next(target: str | None) -> str | None:
    """A same-site path to go to after login, or None. Refuses absolute URLs,
    scheme-relative `//host`, backslash tricks and control characters."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target or any(ord(ch) < 33 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int, dict[str, str]]:
    form = LoginForm()
    target = safe_next(request.args.get("next") or form.next.data)
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("home.index"))
    status, headers = (422 if request.method == "POST" else 200), {}
    if form.validate_on_submit():
        username, address = form.username.data or "", request.remote_addr or ""
        throttle = _throttle()
        # Counted as failed until the password proves right; None past the limit.
        attempt, wait = throttle.attempt(db.session, username, address)
        if attempt is None:
            form.form_errors.append(f"Too many failed logins. Try again in {_minutes(wait)}.")
            status, headers = 429, {"Retry-After": str(wait)}
            named = tried_name(username, find_account(username) is not None)
            record_access("locked_out", f"Login as “{named}” refused: too many failures",
                          username=named, detail=f"may try again in {wait} s",
                          level=logging.WARNING)
        else:
            record, refused, why = _check_credentials(username, form.password.data or "")
            if record is None:
                form.form_errors.append(refused)
                if refused != BAD_LOGIN:  # a disabled account's right password is no guess
                    throttle.forgive(db.session, attempt)
                named = tried_name(username, why != UNKNOWN)
                record_access("login_failed", f"Failed login as “{named}”",
                              username=named, detail=why, level=logging.WARNING)
            else:
                throttle.succeeded(db.session, username, address)
                record = upgrade_hash(record, form.password.data or "")
                session.clear()  # a fresh session at login: no fixation
                # A server-side session; its id is also the one on audit events.
                session["sid"] = sessions.start(db.session, record, address,
                                                request.user_agent.string, lifetimes())
                login_user(Account(record))
                record_access("login", f"{record['username']} logged in",
                              username=record["username"], account_id=record["id"],
                              session_id=session["sid"])
                flash(f"Welcome, {record['username']}.", "success")
                return redirect(target or url_for("home.index"))
    form.next.data = target or ""
    form.password.data = ""
    return render_template("auth/login.html", form=form), status, headers


def _check_credentials(username: str,
                       password: str) -> tuple[dict[str, Any] | None, str, str]:
    """(the account, "", "") or (None, what the visitor is told, what the log says)."""
    record = find_account(username)
    if record is None:
        verify_password(_dummy_hash(), password)
        return None, BAD_LOGIN, UNKNOWN
    if not verify_password(record.get("password"), password):
        return None, BAD_LOGIN, "wrong password"
    if not record["active"]:
        return None, "This account is disabled. Ask an admin to enable it.", "account disabled"
    return record, "", ""


def _throttle() -> Throttle:
    config = current_app.config
    return Throttle(config["HINDSIGHT_LOGIN_FAILURES"],
                    config["HINDSIGHT_LOGIN_WINDOW_S"] * 1000)


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"


@bp.post("/logout")
def logout() -> Response:
    sid = session.get("sid")
    if current_user.is_authenticated and isinstance(sid, str) \
            and sessions.end(db.session, sid, sessions.LOGGED_OUT):
        record_access("logout", f"{current_user.username} logged out",
                      username=current_user.username, account_id=current_user.id,
                      session_id=sid)
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    """To the login page, and back here afterwards. An HTMX request (a session that ended
    while a list was open) gets HX-Redirect, so the whole page goes, not a fragment."""
    here = request.full_path if request.query_string else request.path
    target = url_for("auth.login", next=here)
    if is_htmx():
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(target)
