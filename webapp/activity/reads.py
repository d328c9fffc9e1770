"""Reads of the activity roll-up: a series of hourly totals, and the busiest keys of
one dimension over a range of hours (both read the roll-up, never the log)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .rollup import DAILY
from .tables import activity_counts as counts


def hourly_totals(session: Session, first_hour: int, last_hour: int) -> dict[int, int]:
    """{hour: events} for the hours in [first_hour, last_hour] that had any."""
    rows = session.execute(sa.select(counts.c.hour, counts.c.count).where(
        counts.c.dim == "all", counts.c.hour >= first_hour, counts.c.hour <= last_hour))
    return {int(hour): int(count) for hour, count in rows}


def top_keys(session: Session, dim: str, first_hour: int, last_hour: int,
             limit: int = 8, daily: bool = False) -> list[tuple[str, int]]:
    """The `limit` keys of `dim` with the most events in the range, most first.
    `daily`: from the per-day rows, over the whole UTC days the range touches (for
    spans of days: a 24th of the rows to read)."""
    if daily:
        dim, first_hour = dim + DAILY, first_hour - first_hour % 24
    total = sa.func.sum(counts.c.count).label("total")
    rows = session.execute(
        sa.select(counts.c.key, total)
        .where(counts.c.dim == dim, counts.c.hour >= first_hour, counts.c.hour <= last_hour)
        .group_by(counts.c.key).order_by(total.desc(), counts.c.key).limit(limit))
    return [(str(key), int(n)) for key, n in rows]
