"""Seen request nonces, kept in the database so every worker process of a node shares
them: a request replayed to another worker is still refused."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .tables import sync_nonces

log = logging.getLogger(__name__)

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
    timestamp anyway). Its own transaction, never shared with an insert: on MariaDB two
    requests that each ran a range DELETE and an INSERT in one transaction deadlocked.
    Two purges at once can still deadlock there; the loser skips, the winner did it."""
    session.rollback()
    try:
        session.execute(sync_nonces.delete().where(sync_nonces.c.expires_ms < now_ms))
        session.commit()
    except OperationalError as exc:  # a deadlock or lock timeout: housekeeping can wait
        session.rollback()
        log.info("nonce purge skipped: %s", str(exc.orig).splitlines()[0][:200])
