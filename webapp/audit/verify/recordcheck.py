"""Every current record and tombstone against what its events say.

One entity at a time, RECORDS records at a time (keyset pages of record ids): their
events are read in record order and folded into each record's heads (expected.py),
then their rows, tombstones, kept unique values and heads' states are read with one IN
query each and compared. No cursor stays open across those queries (MariaDB's driver
cannot run a query while it streams another). Rows and tombstones that no event
explains are found by one anti-join per table. Memory: one page of records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, vv
from ..compaction.tables import compacted_records
from ..entity import Entity, Registry
from ..replication.headevents import histories
from ..replication.history import History
from ..replication.tables import unique_renames
from ..tables import change_events as ev
from ..tables import tombstones
from .bases import broken_bases
from .expected import HeadEvent, advance, expected_live_state, merged_vv, winner
from .findings import Break, Kind
from .orphans import unexplained
from .streaming import Tick

RECORDS = 500  # records compared per round of IN queries
# Not the states: only the heads' are needed, read per group of records (_states).
cr = compacted_records.c
_EVENT_COLUMNS = (ev.c.record_id, ev.c.seq, ev.c.event_id, ev.c.origin_node_id, ev.c.hlc,
                  ev.c.vv_after, ev.c.op, ev.c.schema_version)


Found = Iterator[tuple[int, Break | None]]  # (records compared, a break or None)


@dataclass
class _Record:
    record_id: str
    heads: list[HeadEvent] = field(default_factory=list)


def check_records(session: Session, registry: Registry, tick: Tick | None = None) -> Found:
    """Yield (records compared, break or None) as the check goes."""
    for entity in registry:
        yield from _entity(session, registry, entity, tick)
        yield from ((1, b) for b in unexplained(session, entity))
        yield from ((0, b) for b in broken_bases(session, entity))


def _entity(session: Session, registry: Registry, entity: Entity, tick: Tick | None) -> Found:
    after = ""
    while True:
        ids = sorted(set(session.execute(
            sa.select(ev.c.record_id).distinct().where(ev.c.entity == entity.name,
                                                       ev.c.record_id > after)
            .order_by(ev.c.record_id).limit(RECORDS)).scalars()) | set(session.execute(
                sa.select(cr.record_id).where(cr.entity == entity.name, cr.record_id > after)
                .order_by(cr.record_id).limit(RECORDS)).scalars()))[:RECORDS]
        if not ids:
            return
        yield from _compare(session, registry, entity, _heads(session, entity, ids, tick))
        after = ids[-1]


def _heads(session: Session, entity: Entity, ids: list[str],
           tick: Tick | None) -> list[_Record]:
    """The records `ids` with the heads of their events."""
    query = (sa.select(*_EVENT_COLUMNS)
             .where(ev.c.entity == entity.name, ev.c.record_id.in_(ids))
             .order_by(ev.c.record_id, ev.c.hlc, ev.c.origin_node_id, ev.c.event_id))
    group: list[_Record] = []
    rows = session.execute(query).all()
    bases = {r.record_id: r for r in session.execute(
        sa.select(cr.record_id, cr.seq, cr.event_id, cr.origin_node_id, cr.hlc, cr.vv_after,
                  cr.op, cr.schema_version)
        .where(cr.entity == entity.name, cr.record_id.in_(ids)))}
    for rid in sorted(bases.keys() - {r.record_id for r in rows}):  # no event after its base
        group.append(_Record(rid))
    for record_id, seq, event_id, origin, hlc, vv_after, op, version in rows:
        if not group or record_id != group[-1].record_id:
            group.append(_Record(record_id))
        group[-1].heads = advance(group[-1].heads, HeadEvent(
            seq, event_id, origin, hlc, orjson.loads(vv_after), op == "deleted", version))
    for record in group:  # the base has seen every removed event: it starts the heads
        base = bases.get(record.record_id)
        if base is not None:
            record.heads = advance(record.heads, HeadEvent(
                int(base.seq or 0), base.event_id, base.origin_node_id, base.hlc,
                orjson.loads(base.vv_after), base.op == "deleted", base.schema_version))
    if tick is not None:
        tick(len(rows))
    return group


def _compare(session: Session, registry: Registry, entity: Entity,
             group: list[_Record]) -> Found:
    ids = [r.record_id for r in group]
    table = entity.table
    rows = {r.id: r._mapping for r in session.execute(sa.select(table).where(table.c.id.in_(ids)))}
    tombs = {r.record_id: r for r in session.execute(sa.select(tombstones).where(
        tombstones.c.entity == entity.name, tombstones.c.record_id.in_(ids)))}
    kept: dict[str, dict[str, Any]] = {}
    if entity.unique_fields:
        for r in session.execute(sa.select(unique_renames).where(
                unique_renames.c.entity == entity.name, unique_renames.c.record_id.in_(ids))):
            kept.setdefault(r.record_id, {})[r.field] = canonical.loads(r.value)
    _states(session, [h for r in group for h in r.heads])
    for record in group:
        def history_of(record_id: str = record.record_id) -> History:
            return histories(session, registry, entity.name, [record_id])[record_id]

        found = _differs(entity, record, history_of, rows.get(record.record_id),
                         tombs.get(record.record_id), kept.get(record.record_id, {}))
        yield 1, found


def _states(session: Session, heads: list[HeadEvent]) -> None:
    """Read the states of the heads (most records have one)."""
    by_id = {h.event_id: h for h in heads}
    query = sa.select(ev.c.event_id, ev.c.post_state, ev.c.pre_state).where(
        ev.c.event_id.in_(sorted(by_id)))
    for event_id, post_state, pre_state in session.execute(query):
        by_id[event_id].post_state, by_id[event_id].pre_state = post_state, pre_state
    cr = compacted_records.c
    for event_id, post_state, pre_state in session.execute(sa.select(
            cr.event_id, cr.post_state, cr.pre_state).where(cr.event_id.in_(sorted(by_id)))):
        by_id[event_id].post_state, by_id[event_id].pre_state = post_state, pre_state


def _differs(entity: Entity, record: _Record, history_of: Callable[[], History], row: Any,
             tomb: Any, kept: dict[str, Any]) -> Break | None:
    heads = record.heads
    top, expected_vv = winner(heads), merged_vv(heads)

    def state_of(head: HeadEvent) -> dict[str, Any] | None:
        return entity.upcast(canonical.loads(head.post_state), head.schema_version)

    def found(detail: str) -> Break:
        return Break(Kind.RECORD, top.origin_node_id, f"{entity.name} {record.record_id}",
                     detail, top.event_id, top.seq)

    live = expected_live_state(heads, state_of, history_of)
    if live is None:
        if row is not None:
            return found(f"its events say it was deleted (by event {top.event_id}), but it "
                         "is a current record")
        if tomb is None:
            return found(f"its events say it was deleted (by event {top.event_id}), but "
                         "it has no tombstone")
        return _tomb_differs(entity, heads, top, tomb, expected_vv, found)
    if row is None:
        why = "a tombstone" if tomb is not None else "no row and no tombstone"
        return found(f"its events say it exists, but it has {why}")
    stored_vv = canonical.loads(row["vv"])
    if stored_vv != expected_vv or row["version"] != vv.version_of(expected_vv):
        return found(f"its version vector {canonical.dumps(stored_vv)} (version "
                     f"{row['version']}) is not the one its events make, "
                     f"{canonical.dumps(expected_vv)}")
    if tomb is not None:
        return found("it is a current record and has a tombstone too")
    shown = {"id": row["id"], **{f: row[f] for f in entity.fields}, **kept}
    wanted = {"id": record.record_id, **{f: live.get(f) for f in entity.fields}}
    changed = sorted(f for f in wanted if shown.get(f) != wanted.get(f))
    if changed:
        secret = entity.secret_fields
        what = ", ".join(f if f in secret else f"{f}={_short(shown.get(f))} where its events "
                         f"say {_short(wanted.get(f))}" for f in changed)
        return found(f"its stored fields differ from its events: {what}")
    if len(heads) == 1 and (row["hlc"], row["origin_node_id"]) != (top.hlc, top.origin_node_id):
        return found(f"its row names HLC {row['hlc']} of origin {row['origin_node_id']} as "
                     f"its last change, but its last event is {top.event_id}")
    return None


def _tomb_differs(entity: Entity, heads: list[HeadEvent], top: HeadEvent, tomb: Any,
                  expected_vv: dict[str, int], found: Callable[[str], Break]) -> Break | None:
    if canonical.loads(tomb.vv) != expected_vv:
        return found(f"its tombstone's version vector {tomb.vv} is not the one its events "
                     f"make, {canonical.dumps(expected_vv)}")
    if tomb.event_id != top.event_id:
        return found(f"its tombstone names event {tomb.event_id}, but event {top.event_id} "
                     "deleted it")
    if len(heads) == 1:
        before = entity.upcast(canonical.loads(top.pre_state), top.schema_version)
        kept = entity.upcast(canonical.loads(tomb.last_state), tomb.schema_version)
        if kept != before:
            return found("its tombstone's last state is not the state its deleting event "
                         "removed")
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
