"""Seen request nonces, kept in the database so every worker process of a node shares
them: a request replayed to another worker is still refused."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .tables import sync_nonces


def remember(session: Session, key_id: str, nonce: str, now_ms: int, ttl_ms: int) -> bool:
    """Record `nonce` for `ttl_ms`; False if it was already seen (a replay).
    Commits its own small transaction. Expired nonces are swept as we go: a request
    that old is refused by its timestamp anyway, so the store stays small."""
    session.rollback()
    try:
        session.execute(sync_nonces.delete().where(sync_nonces.c.expires_ms < now_ms))
        session.execute(sync_nonces.insert().values(key_id=key_id, nonce=nonce,
                                                    expires_ms=now_ms + ttl_ms))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(sync_nonces)).scalar_one())
