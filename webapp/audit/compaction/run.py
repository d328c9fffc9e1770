"""Carrying out a compaction plan, in the caller's one transaction: each origin's
removable events are read a page at a time (keyset on its chain order), the records
they leave are noted in compacted_records (their last removed event and the state it
left), then the page is deleted; the origin's new chain start and a run row are written
last. Nothing is committed here: the caller commits once, so a failure leaves the log
as it was (no half state to resume from)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..prepared import insert_rows
from ..tables import change_events as ev
from .plan import Plan, removed
from .tables import compacted_records, compaction_origins, compaction_runs

PAGE = 2000  # events read and deleted at once
Progress = Callable[[int, int], None]  # (events removed, events to remove)
_COLUMNS = (ev.c.seq, ev.c.event_id, ev.c.entity, ev.c.record_id, ev.c.hlc, ev.c.op,
            ev.c.hash, ev.c.schema_version)


_UPDATE_NOTE = compacted_records.update().where(
    compacted_records.c.entity == sa.bindparam("b_entity"),
    compacted_records.c.record_id == sa.bindparam("b_record_id"))


@dataclass(frozen=True)
class Result:
    events_removed: int
    records_noted: int
    through_seq: int


def compact(session: Session, plan: Plan, run_id: str, now_ms: int,
            progress: Progress | None = None) -> Result:
    """Remove what `plan` says (plan it in the same transaction); the caller commits."""
    done = noted = through = 0
    for origin in plan.origins:
        where, after, last = removed(origin, plan.cuts[origin]), None, None
        count = 0
        while True:
            query = sa.select(*_COLUMNS).where(where)
            if after is not None:
                query = query.where(sa.tuple_(ev.c.hlc, ev.c.event_id) > sa.tuple_(*after))
            rows = session.execute(query.order_by(ev.c.hlc, ev.c.event_id).limit(PAGE)).all()
            if not rows:
                break
            noted += _note_records(session, rows)
            ids = [row.event_id for row in rows]
            session.execute(ev.delete().where(ev.c.event_id.in_(ids)))
            last, after = rows[-1], (rows[-1].hlc, rows[-1].event_id)
            through = max(through, *(int(row.seq) for row in rows))
            count += len(rows)
            done += len(rows)
            if progress is not None:
                progress(done, plan.events)
        if last is not None:
            _move_start(session, origin, last, count)
    session.execute(compaction_runs.insert().values(
        run_id=run_id, snapshot_id=plan.snapshot.snapshot_id,
        snapshot_seq=plan.snapshot.last_seq, through_seq=through, events_removed=done,
        done_ms=now_ms))
    return Result(done, noted, through)


def _note_records(session: Session, rows: Sequence[Any]) -> int:
    """Keep, per record, its last removed event (by HLC) and the state it left."""
    latest: dict[tuple[str, str], Any] = {}
    for row in rows:
        key = (row.entity, row.record_id)
        if key not in latest or (row.hlc, row.event_id) > (latest[key].hlc, latest[key].event_id):
            latest[key] = row
    c = compacted_records.c
    stored = {(r.entity, r.record_id): (r.hlc, r.event_id) for r in session.execute(
        sa.select(c.entity, c.record_id, c.hlc, c.event_id)
        .where(c.record_id.in_([k[1] for k in latest])))}
    newer = {k: row for k, row in latest.items()
             if k not in stored or (row.hlc, row.event_id) > stored[k]}
    if not newer:
        return 0
    states = dict(session.execute(sa.select(ev.c.event_id, ev.c.post_state).where(
        ev.c.event_id.in_([row.event_id for row in newer.values()]))).all())
    inserts, updates = [], []
    for key, row in newer.items():
        values = {"seq": row.seq, "hlc": row.hlc, "event_id": row.event_id, "op": row.op,
                  "schema_version": row.schema_version, "state": states[row.event_id]}
        if key in stored:
            updates.append({"b_entity": key[0], "b_record_id": key[1], **values})
        else:
            inserts.append({"entity": key[0], "record_id": key[1], **values})
    insert_rows(session, compacted_records, inserts)
    if updates:
        session.execute(_UPDATE_NOTE, updates)
    return len(newer)


def _move_start(session: Session, origin: str, last: Any, count: int) -> None:
    c = compaction_origins.c
    before = session.execute(sa.select(c.removed).where(c.origin_node_id == origin)).scalar()
    values = {"start_hash": last.hash, "start_hlc": last.hlc, "start_event_id": last.event_id,
              "removed": int(before or 0) + count}
    if before is None:
        session.execute(compaction_origins.insert().values(origin_node_id=origin, **values))
    else:
        session.execute(compaction_origins.update().where(c.origin_node_id == origin)
                        .values(**values))

