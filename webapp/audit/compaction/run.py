"""Carrying out a compaction plan, in the caller's one transaction, set-based: each
record cut keeps its last removed event whole as its base (one INSERT ... SELECT),
each origin's chain start moves to its last removed event, then the log is deleted by
seq ranges. No row passes through Python. Nothing is committed here: the caller
commits once, so a failure leaves the log as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..tables import change_events as ev
from ..tables import tombstones
from .plan import Plan
from .tables import compacted_records, compaction_origins, compaction_runs

RANGE = 50_000  # seqs deleted per statement (progress between them)
BASES_AT_ONCE = 500  # bases copied per statement (bound parameters: SQLite allows 999+)
Progress = Callable[[int, int], None]  # (events removed, events to remove)


@dataclass(frozen=True)
class Result:
    events_removed: int
    records_noted: int
    through_seq: int
    tombstones_removed: int = 0


def compact(session: Session, plan: Plan, run_id: str, now_ms: int,
            progress: Progress | None = None) -> Result:
    """Remove what `plan` says (plan it in the same transaction); the caller commits."""
    through = plan.through
    noted = keep_bases(session, through, plan.base_seqs)
    forgotten = forget_deleted(session, through, min(through, plan.ack_bound))
    _move_starts(session, through)
    done = 0
    low = int(session.execute(sa.select(sa.func.coalesce(sa.func.min(ev.c.seq), 1))).scalar_one())
    while low <= through:
        high = min(low + RANGE - 1, through)
        gone = session.execute(ev.delete().where(ev.c.seq >= low, ev.c.seq <= high))
        done += int(gone.rowcount or 0)  # type: ignore[attr-defined]
        if progress is not None:
            progress(done, plan.events)
        low = high + 1
    session.execute(compaction_runs.insert().values(
        run_id=run_id, snapshot_id=plan.snapshot.snapshot_id,
        snapshot_seq=plan.snapshot.last_seq, through_seq=through, events_removed=done,
        done_ms=now_ms))
    return Result(done, noted, through, forgotten)


def keep_bases(session: Session, through: int, base_seqs: list[int] | None = None) -> int:
    """Each record with events at or below `through`: its last such event becomes its
    base (replacing an older base). `base_seqs`: those events' seqs, when the plan found
    them (else one GROUP BY finds them). Returns how many records were noted."""
    cr = compacted_records.c
    cut = sa.exists().where(ev.c.entity == cr.entity, ev.c.record_id == cr.record_id,
                            ev.c.seq <= through)
    session.execute(compacted_records.delete().where(cut))
    names = [c.name for c in compacted_records.columns]
    copy = sa.select(*(ev.c[n] for n in names))
    if base_seqs is None:
        last = (sa.select(sa.func.max(ev.c.seq)).where(ev.c.seq <= through)
                .group_by(ev.c.entity, ev.c.record_id))
        session.execute(compacted_records.insert().from_select(names, copy.where(
            ev.c.seq.in_(last))))
        # Counted apart: an INSERT ... SELECT's rowcount is not reported on every driver.
        return int(session.execute(sa.select(sa.func.count()).select_from(last.subquery()))
                   .scalar_one())
    for start in range(0, len(base_seqs), BASES_AT_ONCE):
        chunk = base_seqs[start:start + BASES_AT_ONCE]
        session.execute(compacted_records.insert().from_select(names, copy.where(
            ev.c.seq.in_(chunk))))
    return len(base_seqs)


def forget_deleted(session: Session, through: int, acknowledged: int) -> int:
    """Records deleted at or before `acknowledged` with no event after the cut: their
    tombstone and base go. Every node has seen the delete (retention alone is not
    enough: a peer behind could still send an update the tombstone must meet), so no
    node can still send a change to such a record."""
    cr, t = compacted_records.c, tombstones.c
    gone = sa.and_(cr.op == "deleted", cr.seq.is_not(None), cr.seq <= acknowledged,
                   ~sa.exists().where(ev.c.entity == cr.entity, ev.c.record_id == cr.record_id,
                                      ev.c.seq > through))
    removed = session.execute(tombstones.delete().where(sa.exists().where(
        cr.entity == t.entity, cr.record_id == t.record_id, cr.event_id == t.event_id, gone)))
    session.execute(compacted_records.delete().where(gone))
    return int(removed.rowcount or 0)  # type: ignore[attr-defined]


def _move_starts(session: Session, through: int) -> None:
    """Each origin's chain here now starts after its last event at or below `through`."""
    counts = session.execute(sa.select(ev.c.origin_node_id, sa.func.count(), sa.func.max(ev.c.seq))
                             .where(ev.c.seq <= through).group_by(ev.c.origin_node_id)).all()
    c = compaction_origins.c
    for origin, count, seq in counts:
        last = session.execute(sa.select(ev.c.hash, ev.c.hlc, ev.c.event_id, ev.c.signature)
                               .where(ev.c.seq == seq)).one()
        before = session.execute(sa.select(c.removed).where(c.origin_node_id == origin)).scalar()
        values = {"start_hash": last.hash, "start_hlc": last.hlc,
                  "start_event_id": last.event_id, "start_signature": last.signature,
                  "removed": int(before or 0) + int(count)}
        if before is None:
            session.execute(compaction_origins.insert().values(origin_node_id=origin, **values))
        else:
            session.execute(compaction_origins.update().where(c.origin_node_id == origin)
                            .values(**values))
