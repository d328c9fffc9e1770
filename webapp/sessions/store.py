"""Server-side sign-in sessions: the cookie names one (its id, nothing else), and the row
says whether it still holds. Logout, an admin's "sign out everywhere", an idle or an
absolute timeout end it; so does a change of the account's password or role (its stamp
no longer matches, whichever node the change came from)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..access.log import log_access
from ..audit.ids import new_ulid
from ..audit.tables import TABLE_ARGS, metadata
from ..housekeeping import sweep

user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),  # also the session id on audit events
    sa.Column("user_id", sa.String(26), nullable=False),
    sa.Column("stamp", sa.String(64), nullable=False),  # of the password hash and role at login
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("seen_ms", sa.BigInteger, nullable=False),
    sa.Column("address", sa.String(45), nullable=False),
    sa.Column("agent", sa.String(200), nullable=False),
    sa.Column("ended_ms", sa.BigInteger, nullable=True),
    sa.Column("end_reason", sa.String(60), nullable=True),
    sa.Index("ix_user_sessions_user", "user_id", "ended_ms"),
    sa.Index("ix_user_sessions_created", "created_ms"),  # the sweep of old sessions
    **TABLE_ARGS,
)

TOUCH_MS = 60_000  # last-seen is written at most once a minute per session
LOGGED_OUT, SIGNED_OUT, CHANGED = "logged out", "signed out by", "password or role changed"
IDLE, EXPIRED = "idle too long", "reached its maximum age"


@dataclass(frozen=True)
class Lifetimes:
    idle_ms: int
    max_ms: int


@dataclass(frozen=True)
class SignIn:
    id: str
    user_id: str
    created_ms: int
    seen_ms: int
    address: str
    agent: str

    @property
    def created(self) -> datetime:
        return datetime.fromtimestamp(self.created_ms / 1000, UTC)

    @property
    def seen(self) -> datetime:
        return datetime.fromtimestamp(self.seen_ms / 1000, UTC)


def stamp(account: Mapping[str, Any]) -> str:
    """What a session depends on: kept server-side, never in the cookie."""
    text = f"{account.get('password') or ''}\x00{account.get('role') or ''}"
    return hashlib.sha256(text.encode()).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def start(session: Session, account: Mapping[str, Any], address: str, agent: str,
          lifetimes: Lifetimes) -> str:
    """A new session for `account`; its id. Sweeps sessions past every lifetime first."""
    now = now_ms()
    sweep(session, user_sessions.delete().where(
        user_sessions.c.created_ms < now - lifetimes.max_ms - 86_400_000), "session sweep")
    sid = new_ulid()
    session.execute(user_sessions.insert().values(
        id=sid, user_id=account["id"], stamp=stamp(account), created_ms=now, seen_ms=now,
        address=address[:45], agent=agent[:200]))
    session.commit()
    return sid


def is_session_id(sid: object) -> bool:
    return isinstance(sid, str) and len(sid) <= 26


# What holds() reads of a session: a caller that reads the account too can join these
# in (webapp/auth/reader.py) and pass the row to still_holds().
HELD_COLUMNS = (user_sessions.c.user_id, user_sessions.c.stamp, user_sessions.c.created_ms,
                user_sessions.c.seen_ms, user_sessions.c.ended_ms)


def holds(session: Session, sid: object, account: Mapping[str, Any],
          lifetimes: Lifetimes) -> bool:
    """Whether session `sid` is still good for `account`; ends it if it just ran out."""
    if not is_session_id(sid):
        return False
    c = user_sessions.c
    row = session.execute(sa.select(*HELD_COLUMNS).where(c.id == sid)).first()
    return still_holds(session, str(sid), row, account, lifetimes)


def still_holds(session: Session, sid: str, row: Any, account: Mapping[str, Any],
                lifetimes: Lifetimes) -> bool:
    """holds(), given the session's row as read (HELD_COLUMNS; None: no such session)."""
    c = user_sessions.c
    if row is None or row.ended_ms is not None or row.user_id != account["id"]:
        return False
    now = now_ms()
    why = (CHANGED if row.stamp != stamp(account) else
           EXPIRED if now - row.created_ms > lifetimes.max_ms else
           IDLE if now - row.seen_ms > lifetimes.idle_ms else None)
    if why is not None:
        end(session, sid, why)
        log_access("session_ended", account=account["id"], session=sid, detail=why)
        return False
    if now - row.seen_ms > TOUCH_MS:
        session.execute(user_sessions.update().where(c.id == sid).values(seen_ms=now))
        session.commit()
    return True


def restamp(session: Session, sid: str, account: Mapping[str, Any]) -> None:
    """Session `sid` goes on under the account's new password or role."""
    c = user_sessions.c
    session.execute(user_sessions.update().where(c.id == sid, c.user_id == account["id"])
                    .values(stamp=stamp(account)))
    session.commit()


def end(session: Session, sid: str, reason: str) -> bool:
    """End one session; whether it was still open."""
    c = user_sessions.c
    done = session.execute(user_sessions.update().where(c.id == sid, c.ended_ms.is_(None))
                           .values(ended_ms=now_ms(), end_reason=reason[:60])).rowcount
    session.commit()
    return bool(done)


def end_all(session: Session, user_id: str, reason: str, keep: str | None = None) -> int:
    """End every open session of `user_id` (but `keep`); how many."""
    c = user_sessions.c
    where = [c.user_id == user_id, c.ended_ms.is_(None)] + ([c.id != keep] if keep else [])
    done = session.execute(user_sessions.update().where(*where)
                           .values(ended_ms=now_ms(), end_reason=reason[:60])).rowcount
    session.commit()
    return int(done)


def open_sessions(session: Session, accounts: Mapping[str, Mapping[str, Any]],
                  lifetimes: Lifetimes) -> list[SignIn]:
    """The sessions that still hold for `accounts` ({user id: record}), newest first."""
    if not accounts:
        return []
    c, now = user_sessions.c, now_ms()
    rows = session.execute(
        sa.select(c.id, c.user_id, c.stamp, c.created_ms, c.seen_ms, c.address, c.agent)
        .where(c.user_id.in_(sorted(accounts)), c.ended_ms.is_(None),
               c.created_ms >= now - lifetimes.max_ms, c.seen_ms >= now - lifetimes.idle_ms)
        .order_by(c.created_ms.desc(), c.id.desc())).all()
    return [SignIn(r.id, r.user_id, r.created_ms, r.seen_ms, r.address, r.agent)
            for r in rows if r.stamp == stamp(accounts[r.user_id])]


def session_user(session: Session, sid: str) -> str | None:
    """The user a session belongs to (open or not), or None."""
    found = session.execute(sa.select(user_sessions.c.user_id)
                            .where(user_sessions.c.id == sid)).scalar()
    return str(found) if found else None


def users_signed_in(session: Session) -> list[str]:
    """Ids of the users with a session not yet ended."""
    c = user_sessions.c
    return list(session.execute(sa.select(c.user_id).where(c.ended_ms.is_(None))
                                .distinct().order_by(c.user_id)).scalars())
