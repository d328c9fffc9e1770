"""Keeping the activity roll-up up to date, from the log's seq order.

Every event gets a node-local seq, and seq order is commit order (SPEC 4): a reader that
counted up to seq s never later finds an uncounted event at or below s. So the roll-up
counts each event exactly once, whichever path wrote it (a local command or a pulled
batch), without adding work to either write path. A refresh counts only the events
since the last one: on a busy node, a few per page view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.db import end_reads
from ..audit.hlc import LOGICAL_BITS
from ..audit.tables import change_events as ev
from .tables import activity_counts, activity_state

HOUR_MS = 3_600_000
HLC_PER_HOUR = HOUR_MS << LOGICAL_BITS
DIMS = ("all", "entity", "user", "node")
DAILY = "/d"  # suffix of a dimension counted per UTC day
MAX_KEY = 100


# The home page reads both on every view, along with its reader (webapp/along.py).
COUNTED_AND_HEAD = (sa.select(activity_state.c.counted_seq).scalar_subquery()
                    .label("activity_counted"),
                    sa.select(sa.func.max(ev.c.seq)).scalar_subquery().label("activity_head"))
_COUNTED_AND_HEAD = sa.select(*COUNTED_AND_HEAD)  # built once


def counted_and_head(session: Session) -> tuple[int, int]:
    """(seq counted so far, the log's last seq)."""
    return counted_and_head_among(session.execute(_COUNTED_AND_HEAD).one()._mapping)


def counted_and_head_among(row: Mapping[str, Any]) -> tuple[int, int]:
    """counted_and_head as a row holding COUNTED_AND_HEAD has them."""
    return int(row["activity_counted"] or 0), int(row["activity_head"] or 0)


def caught_up(session: Session, known: tuple[int, int]) -> int:
    """Count what the roll-up has not counted yet (a few events, usually); return the
    seq it has counted up to, which is what its charts can show. `known`: what
    counted_and_head says (the home page reads it along with its reader)."""
    counted, head = known
    if head <= counted:  # the page reads on in this transaction, from the same snapshot
        return counted
    refresh(session)
    return counted_and_head(session)[0]


def refresh(session: Session, limit: int = 200_000) -> int:
    """Count the events after the counted seq (at most `limit`), in one transaction that
    holds the roll-up's row lock, so concurrent refreshes never count an event twice.
    Returns how many events it counted; commits."""
    counted, head = counted_and_head(session)
    if head <= counted:
        end_reads(session)
        return 0
    state = activity_state
    _ensure_state_row(session)
    # The first statement takes the row's write lock (SQLite: the database's), before any
    # read, so the counted seq read next is the latest committed one.
    session.execute(state.update().where(state.c.id == 1)
                    .values(counted_seq=state.c.counted_seq))
    start = int(session.execute(sa.select(state.c.counted_seq).with_for_update()).scalar_one())
    end = min(head, start + limit)
    hour = (ev.c.hlc // HLC_PER_HOUR).label("hour")
    rows = session.execute(
        sa.select(hour, ev.c.entity, ev.c.user_id, ev.c.origin_node_id, sa.func.count())
        .where(ev.c.seq > start, ev.c.seq <= end)
        .group_by(hour, ev.c.entity, ev.c.user_id, ev.c.origin_node_id)).all()
    _add(session, _by_dim(rows))
    session.execute(state.update().where(state.c.id == 1).values(counted_seq=end))
    session.commit()
    return sum(int(r[4]) for r in rows)


def start_again(session: Session) -> None:
    """Forget every count, in the caller's transaction: the node emptied its log to start
    again from a peer's snapshot, and pulls those events back under new seqs, which the
    old counts would count a second time. The next refresh counts the log as it is."""
    session.execute(activity_counts.delete())
    session.execute(activity_state.delete())


def _ensure_state_row(session: Session) -> None:
    session.rollback()
    if session.execute(sa.select(activity_state.c.id)).first() is None:
        try:
            session.execute(activity_state.insert().values(id=1, counted_seq=0))
            session.commit()
        except IntegrityError:  # another process made it first
            session.rollback()
    session.rollback()


Key = tuple[int, str, str]  # (hour, dim, key)


def _by_dim(rows: Iterable[sa.Row[tuple[int, str, str | None, str, int]]]) -> Counter[Key]:
    totals: Counter[Key] = Counter()
    for hour, entity, user_id, node_id, count in rows:
        day = int(hour) - int(hour) % 24
        totals[int(hour), "all", ""] += int(count)
        for dim, key in zip(DIMS[1:], (entity, user_id or "", node_id), strict=True):
            totals[int(hour), dim, str(key)[:MAX_KEY]] += int(count)
            totals[day, dim + DAILY, str(key)[:MAX_KEY]] += int(count)
    return totals


def _add(session: Session, totals: Counter[Key]) -> None:
    """Add to existing rows, insert new ones (the lock keeps others out meanwhile)."""
    if not totals:
        return
    table = activity_counts
    hours = sorted({hour for hour, _, _ in totals})
    dims = sorted({dim for _, dim, _ in totals})
    existing = {(int(r.hour), r.dim, r.key) for r in session.execute(
        sa.select(table.c.hour, table.c.dim, table.c.key)
        .where(table.c.dim.in_(dims), table.c.hour.in_(hours)))}
    fresh = [{"hour": h, "dim": d, "key": k, "count": n}
             for (h, d, k), n in totals.items() if (h, d, k) not in existing]
    updates = [{"b_hour": h, "b_dim": d, "b_key": k, "b_count": n}
               for (h, d, k), n in totals.items() if (h, d, k) in existing]
    if fresh:
        session.execute(table.insert(), fresh)
    if updates:
        session.execute(
            table.update().where(table.c.hour == sa.bindparam("b_hour"),
                                 table.c.dim == sa.bindparam("b_dim"),
                                 table.c.key == sa.bindparam("b_key"))
            .values(count=table.c.count + sa.bindparam("b_count")), updates)
