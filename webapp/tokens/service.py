"""Issue, list, revoke and check API tokens. A token is `hs_` and 43 URL-safe characters
(256 random bits); only its SHA-256 is kept, so a stolen database holds no usable token.
The token acts as its user, with that user's role at the time of each request: a
disabled account's or a removed user's tokens stop working at once."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.ids import is_ulid, new_ulid
from ..audit.lookups import id_by_field
from ..audit.records import get_record, titles
from ..domain import users
from .table import api_tokens

PREFIX = "hs_"
_SHAPE = re.compile(r"^hs_[A-Za-z0-9_-]{43}$")
TOUCH_EVERY_MS = 60_000  # last use is written at most once a minute per token


class TokenError(ValueError):
    """A token that cannot be issued, found or used; the message says why."""


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user_id: str
    username: str  # the user's username, or its id if the record is gone
    name: str
    hint: str
    created_ms: int
    last_used_ms: int | None
    revoked_ms: int | None

    @property
    def active(self) -> bool:
        return self.revoked_ms is None

    @property
    def created(self) -> datetime:
        return _moment(self.created_ms)

    @property
    def last_used(self) -> datetime | None:
        return None if self.last_used_ms is None else _moment(self.last_used_ms)

    @property
    def revoked(self) -> datetime | None:
        return None if self.revoked_ms is None else _moment(self.revoked_ms)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, username: str, name: str, created_by: str) -> tuple[str, str]:
    """A new token for the account `username`: (its id, the token, shown only now)."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise TokenError("a token needs a name of 1 to 100 printable characters")
    user_id = id_by_field(session, users, "username", username.strip().lower())
    record = get_record(session, users, user_id) if user_id else None
    if record is None or user_id is None:
        raise TokenError(f"no account named {username.strip()[:40]!r}")
    if not record["active"]:
        raise TokenError(f"the account {record['username']!r} cannot log in, so it gets no token")
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = new_ulid()
    session.execute(api_tokens.insert().values(
        id=token_id, user_id=user_id, name=name, token_hash=digest(token),
        hint=token[:len(PREFIX) + 4], created_ms=_now(), created_by=created_by[:64]))
    session.commit()
    return token_id, token


def revoke(session: Session, token_id: str) -> TokenInfo:
    """Revoke a token by id; revoking a revoked token is refused (it says when)."""
    found = _find(session, token_id)
    if found.revoked_ms is not None:
        raise TokenError(f"token {found.id} ({found.name}) is already revoked")
    session.execute(api_tokens.update().where(api_tokens.c.id == found.id)
                    .values(revoked_ms=_now()))
    session.commit()
    return _find(session, found.id)


def list_tokens(session: Session) -> list[TokenInfo]:
    rows = session.execute(sa.select(api_tokens).order_by(api_tokens.c.id.desc())).all()
    return _infos(session, [r._mapping for r in rows])


def authenticate(session: Session, header: str | None) -> dict[str, Any]:
    """The user record an `Authorization: Bearer <token>` header acts as, or TokenError."""
    scheme, _, token = (header or "").strip().partition(" ")
    if not header:
        raise TokenError("an API token is required: send 'Authorization: Bearer <token>'")
    if scheme.lower() != "bearer" or not _SHAPE.match(token.strip()):
        raise TokenError("the Authorization header is not 'Bearer <token>' with a Hindsight token")
    row = session.execute(sa.select(api_tokens).where(
        api_tokens.c.token_hash == digest(token.strip()))).first()
    if row is None:
        raise TokenError("unknown API token")
    if row.revoked_ms is not None:
        raise TokenError("this API token was revoked")
    record = get_record(session, users, row.user_id)
    if record is None or not record["active"]:
        raise TokenError("this API token's account is disabled or gone")
    now = _now()
    if row.last_used_ms is None or now - row.last_used_ms >= TOUCH_EVERY_MS:
        session.execute(api_tokens.update().where(api_tokens.c.id == row.id)
                        .values(last_used_ms=now))
        session.commit()
    return dict(record)


def _find(session: Session, token_id: str) -> TokenInfo:
    wanted = token_id.strip().upper()
    row = session.execute(sa.select(api_tokens).where(api_tokens.c.id == wanted)).first() \
        if is_ulid(wanted) else None
    if row is None:
        raise TokenError(f"no API token with id {token_id.strip()[:40]!r}")
    return _infos(session, [row._mapping])[0]


def _infos(session: Session, rows: list[Any]) -> list[TokenInfo]:
    names = titles(session, users, [r["user_id"] for r in rows])
    return [TokenInfo(r["id"], r["user_id"], names.get(r["user_id"], r["user_id"]), r["name"],
                      r["hint"], r["created_ms"], r["last_used_ms"], r["revoked_ms"])
            for r in rows]


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _now() -> int:
    return time.time_ns() // 1_000_000
