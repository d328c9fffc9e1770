"""The signed-in reader, read in one query per request: their account, their sign-in
session (whether it still holds is sessions.store's rule), their time zone choice, what
the frame of the page shows admins (webapp/chrome.py), and the reads the page makes on
every view (webapp/along.py). Read apart, these were five queries before any page's
own, and the page's own."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import SimpleNamespace
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import chrome
from ..along import Along
from ..domain import users
from ..preferences.tables import user_preferences
from ..sessions.store import HELD_COLUMNS, is_session_id, user_sessions

_SESSION = "session_"  # prefix of the session's columns in the joined row
_ZONE = "chosen_zone"
# What a signed-in request needs of the account: who (id, username), what they may do
# (role, active), and what their session's stamp covers (password, role). Not the rest
# of the record, which no page asks of the signed-in user (its version vector is JSON to
# decode on every request).
ACCOUNT_FIELDS = ("id", "username", "role", "active", "password")


class Found(NamedTuple):
    account: dict[str, Any]  # ACCOUNT_FIELDS of the `user` record
    held: Any  # its session's row as sessions.store.still_holds takes it, or None
    zone: str | None  # its stored time zone, or None
    chrome: chrome.Chrome
    row: Mapping[str, Any]  # the whole row, which holds the columns of the reads along


def read(session: Session, user_id: str, sid: object, along: tuple[Along[Any], ...] = (),
         params: Mapping[str, Any] | None = None) -> Found | None:
    """The signed-in reader, their page's chrome and the page's reads `along` (with
    their `params`; in Found.row); None if there is no such account."""
    row = session.execute(_reader(along), {**(params or {}), "user_id": user_id,
                                           "sid": sid if is_session_id(sid) else None,
                                           **chrome.params()}).first()
    if row is None:
        return None
    found = row._mapping
    held = None
    if found[_SESSION + "user_id"] is not None:
        held = SimpleNamespace(**{c.name: found[_SESSION + c.name] for c in HELD_COLUMNS})
    return Found({name: found[name] for name in ACCOUNT_FIELDS}, held, found[_ZONE],
                 chrome.among(found), found)


@cache  # built once per page's reads: every request runs it
def _reader(along: tuple[Along[Any], ...]) -> sa.Select[Any]:
    accounts, held = users.table, user_sessions
    # A NULL sid (not a session id) joins no session: `id = NULL` holds for no row.
    query = sa.select(*(accounts.c[name] for name in ACCOUNT_FIELDS),
                      *(c.label(_SESSION + c.name) for c in HELD_COLUMNS),
                      user_preferences.c.time_zone.label(_ZONE), *chrome.COLUMNS,
                      *(column for read in along for column in read.columns)
                      ).select_from(accounts)
    # The reads' joins come first: joined to `users` itself, as SQLAlchemy's MySQL
    # compiler only sees a join to a table as joining it (else it warns of a cartesian
    # product: their conditions name no column of the reader's tables).
    for read in along:
        for table, condition in read.joins:
            query = query.outerjoin(table, condition)
    return (query.outerjoin(held, sa.and_(held.c.id == sa.bindparam("sid", type_=sa.String),
                                          held.c.user_id == accounts.c.id))
            .outerjoin(user_preferences, user_preferences.c.user_id == accounts.c.id)
            .where(accounts.c.id == sa.bindparam("user_id")))
