"""Deleting rows that have run out (seen sync nonces, old failed logins)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def sweep(session: Session, statement: sa.Delete, what: str) -> None:
    """Run a range DELETE in a transaction of its own, never shared with an insert: on
    MariaDB two requests that each ran a range DELETE and an INSERT in one transaction
    deadlocked. Two sweeps at once can still deadlock there; the loser skips (the
    winner did the work) and housekeeping waits for the next one."""
    session.rollback()
    try:
        session.execute(statement)
        session.commit()
    except OperationalError as exc:  # a deadlock or lock timeout
        session.rollback()
        log.info("%s skipped: %s", what, str(exc.orig).splitlines()[0][:200])
