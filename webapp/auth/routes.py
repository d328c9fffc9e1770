"""Log in and out. Bad credentials get one generic message; `next` only goes same-site."""

from __future__ import annotations

import secrets
from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..audit.ids import new_ulid
from ..audit.passwords import hash_password, verify_password
from ..extensions import login_manager
from ..templating import is_htmx
from .account import Account, find_account
from .forms import LoginForm

bp = Blueprint("auth", __name__)

BAD_LOGIN = "Unknown username or wrong password."


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so both failures take the same time."""
    return hash_password(secrets.token_hex(16))


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
def login() -> Response | tuple[str, int]:
    form = LoginForm()
    target = safe_next(request.args.get("next") or form.next.data)
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("home.index"))
    if form.validate_on_submit():
        record = find_account(form.username.data or "")
        password = form.password.data or ""
        if record is None:
            verify_password(_dummy_hash(), password)
            form.form_errors.append(BAD_LOGIN)
        elif not verify_password(record.get("password"), password):
            form.form_errors.append(BAD_LOGIN)
        elif not record["active"]:
            form.form_errors.append("This account is disabled. Ask an admin to enable it.")
        else:
            session.clear()  # a fresh session at login: no fixation
            login_user(Account(record))
            session["sid"] = new_ulid()  # the session id recorded on audit events
            flash(f"Welcome, {record['username']}.", "success")
            return redirect(target or url_for("home.index"))
    form.next.data = target or ""
    form.password.data = ""
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
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
