"""The signed-in reader, read in one query per request: their account, their sign-in
session (whether it still holds is sessions.store's rule) and their time zone choice.
Read apart, these were three queries before any page's own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.records import record_among
from ..domain import users
from ..preferences.tables import user_preferences
from ..sessions.store import HELD_COLUMNS, is_session_id, user_sessions

_SESSION = "session_"  # prefix of the session's columns in the joined row
_ZONE = "chosen_zone"


def read(session: Session, user_id: str,
         sid: object) -> tuple[dict[str, Any] | None, Any, str | None]:
    """(the account's record or None, its session's row as sessions.store.still_holds
    takes it or None, its stored time zone or None)."""
    row = session.execute(_READER, {"user_id": user_id,
                                    "sid": sid if is_session_id(sid) else None}).first()
    if row is None:
        return None, None, None
    found = row._mapping
    signed_in = None
    if found[_SESSION + "user_id"] is not None:
        signed_in = SimpleNamespace(**{c.name: found[_SESSION + c.name] for c in HELD_COLUMNS})
    return record_among(users, found), signed_in, found[_ZONE]


def _reader() -> sa.Select[Any]:
    accounts, held = users.table, user_sessions
    # A NULL sid (not a session id) joins no session: `id = NULL` holds for no row.
    return (sa.select(accounts, *(c.label(_SESSION + c.name) for c in HELD_COLUMNS),
                      user_preferences.c.time_zone.label(_ZONE))
            .outerjoin(held, sa.and_(held.c.id == sa.bindparam("sid", type_=sa.String),
                                     held.c.user_id == accounts.c.id))
            .outerjoin(user_preferences, user_preferences.c.user_id == accounts.c.id)
            .where(accounts.c.id == sa.bindparam("user_id")))


_READER = _reader()  # built once: every request runs it
