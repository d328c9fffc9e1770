"""The logged-in user: a read-only view of a `user` record for Flask-Login."""

from __future__ import annotations

from typing import Any

from flask import current_app, session
from flask_login import UserMixin, login_user

from .. import along, chrome
from ..audit.lookups import id_by_field
from ..audit.records import get_record
from ..domain import users
from ..extensions import db, login_manager
from ..preferences.zones import remember_choice
from ..sessions import store as sessions
from . import reader


class Account(UserMixin):  # type: ignore[misc]
    """`record` holds at least reader.ACCOUNT_FIELDS (a request reads no more of it)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.id = record["id"]
        self.username = record["username"]
        self.role = record["role"]
        self.active = bool(record["active"])

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Only the id: whether the session still holds is the server's business
        # (webapp/sessions/store.py), and nothing from the password goes in the cookie.
        return str(self.id)


@login_manager.user_loader
def load_account(user_id: str) -> Account | None:
    sid = session.get("sid")
    reads, params = along.asked()
    found = reader.read(db.session, user_id, sid, reads, params)
    if found is None or not found.account["active"]:
        return None
    if not sessions.still_holds(db.session, str(sid), found.held, found.account, lifetimes()):
        return None
    remember_choice(found.zone)
    chrome.remember(found.chrome)
    along.remember(reads, found.row)
    return Account(found.account)


def keep_signed_in(record: dict[str, Any]) -> None:
    """After the signed-in user changed their own account: this session takes the new
    stamp and goes on; their other sessions end (their stamp is the old one)."""
    sid = session.get("sid")
    if isinstance(sid, str):
        sessions.restamp(db.session, sid, record)
    login_user(Account(record))


def lifetimes() -> sessions.Lifetimes:
    config = current_app.config
    return sessions.Lifetimes(config["HINDSIGHT_SESSION_IDLE_S"] * 1000,
                              config["HINDSIGHT_SESSION_MAX_S"] * 1000)


login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


def find_account(username: str) -> dict[str, Any] | None:
    """The `user` record with this username (usernames are stored lowercase), or None."""
    record_id = id_by_field(db.session, users, "username", username.strip().lower())
    return get_record(db.session, users, record_id) if record_id else None
