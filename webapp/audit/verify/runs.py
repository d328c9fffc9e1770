"""When verification last ran and what it found: one row per run (the latest few kept),
for the nodes page and the dashboard's warning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..tables import TABLE_ARGS, LongText, metadata
from .findings import Break, Summary

KEEP = 20  # runs kept
MAX_DETAIL = 4000  # characters of the first breaks kept with a run

verification_runs = sa.Table(
    "verification_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_ms", sa.BigInteger, nullable=False),
    sa.Column("finished_ms", sa.BigInteger, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Column("breaks", sa.Integer, nullable=False),
    sa.Column("summary", sa.String(500), nullable=False),
    sa.Column("detail", LongText),  # the first breaks, one a line
    **TABLE_ARGS,
)


@dataclass(frozen=True)
class RunOutcome:
    """What pages show of a run beside its own page: when it finished, and whether it
    found breaks (how many)."""
    finished_ms: int
    ok: bool
    breaks: int

    @property
    def finished(self) -> datetime:
        return datetime.fromtimestamp(self.finished_ms / 1000, tz=UTC)


@dataclass(frozen=True)
class VerificationRun(RunOutcome):
    started_ms: int
    events: int
    summary: str
    detail: str | None


def record_run(session: Session, started_ms: int, finished_ms: int, summary: Summary,
               first: list[Break]) -> None:
    """Store a run in its own transaction, and forget runs older than the last KEEP."""
    session.rollback()
    detail = "\n".join(b.line() for b in first)[:MAX_DETAIL] or None
    session.execute(verification_runs.insert().values(
        started_ms=started_ms, finished_ms=finished_ms, ok=summary.ok, events=summary.events,
        breaks=sum(summary.breaks.values()), summary=summary.line()[:500], detail=detail))
    oldest_kept = sa.select(verification_runs.c.id).order_by(
        verification_runs.c.id.desc()).offset(KEEP - 1).limit(1).scalar_subquery()
    cutoff = session.execute(sa.select(oldest_kept)).scalar()
    if cutoff is not None:
        session.execute(verification_runs.delete().where(verification_runs.c.id < cutoff))
    session.commit()


# Built once: admins' pages read it on every request (base.html's warning).
_LAST = sa.select(verification_runs).order_by(verification_runs.c.id.desc()).limit(1)


def last_run(session: Session) -> VerificationRun | None:
    row = session.execute(_LAST).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    del fields["id"]
    return VerificationRun(**fields)


def _of_last(column: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
    return sa.select(column).order_by(verification_runs.c.id.desc()).limit(1).scalar_subquery()


# The last run's outcome as columns, for a statement that a page runs anyway (the
# signed-in reader's, webapp/chrome.py): NULLs when verification never ran.
_OUTCOME = "last_run_"
LAST_OUTCOME = tuple(_of_last(verification_runs.c[name]).label(_OUTCOME + name)
                     for name in ("finished_ms", "ok", "breaks"))


def outcome_among(row: Mapping[str, Any]) -> RunOutcome | None:
    """The outcome in a row that holds LAST_OUTCOME's columns; None if never run."""
    finished_ms = row[_OUTCOME + "finished_ms"]
    if finished_ms is None:
        return None
    return RunOutcome(int(finished_ms), bool(row[_OUTCOME + "ok"]),
                      int(row[_OUTCOME + "breaks"]))
