"""The logged-in user: a read-only view of a `user` record for Flask-Login."""

from __future__ import annotations

from typing import Any

from flask_login import UserMixin

from ..audit.lookups import id_by_field
from ..audit.records import get_record
from ..domain import users
from ..extensions import db, login_manager


class Account(UserMixin):  # type: ignore[misc]
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
        # Includes the version's password hash tail, so changing a password ends
        # every other session of that account.
        return f"{self.id}:{(self.record.get('password') or '')[-12:]}"


@login_manager.user_loader
def load_account(session_id: str) -> Account | None:
    record_id, _, tail = session_id.partition(":")
    record = get_record(db.session, users, record_id)
    if record is None or (record.get("password") or "")[-12:] != tail:
        return None
    account = Account(record)
    return account if account.is_active else None


login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


def find_account(username: str) -> dict[str, Any] | None:
    """The `user` record with this username (usernames are stored lowercase), or None."""
    record_id = id_by_field(db.session, users, "username", username.strip().lower())
    return get_record(db.session, users, record_id) if record_id else None
