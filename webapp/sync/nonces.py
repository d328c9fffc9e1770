"""Seen request nonces, kept in the database so every worker process of a node shares
them: a request replayed to another worker is still refused."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..housekeeping import sweep
from .tables import sync_nonces

# A process sweeps expired nonces at most this often: the store stays small (a nonce
# outlives its expiry by at most this long) without a DELETE on every request.
PURGE_EVERY_MS = 60_000


def remember(session: Session, key_id: str, nonce: str, now_ms: int, ttl_ms: int) -> bool:
    """Record `nonce` for `ttl_ms`; False if it was already seen (a replay).
    Commits its own small transaction."""
    session.rollback()
    try:
        session.execute(sync_nonces.insert().values(key_id=key_id, nonce=nonce,
                                                    expires_ms=now_ms + ttl_ms))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def purge_expired(session: Session, now_ms: int) -> None:
    """Delete the nonces expired by `now_ms` (a request that old is refused by its
    timestamp anyway)."""
    sweep(session, sync_nonces.delete().where(sync_nonces.c.expires_ms < now_ms), "nonce purge")
