"""The events behind heads: a row's head knows its HLC and origin but not its event id,
and a head read from replication_heads knows its id but not its states. Both are read
only when needed (a collision forms, or an older head becomes the winner)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..compaction.tables import BASE_EVENT_COLUMNS, compacted_records
from ..entity import Registry
from ..events import ChangeEvent
from ..idlists import is_token, list_style, one_of
from ..store import upcast
from ..tables import change_events as ev
from ..transaction import chunks
from .heads import Head
from .history import History, Stub
from .state import RecordState


def ensure_event_id(session: Session, state: RecordState, head: Head) -> str:
    """The id of the event a row's head stands for (its HLC and origin name it)."""
    if head.event_id is None:
        query = sa.select(ev.c.event_id).where(
            ev.c.entity == state.entity.name, ev.c.record_id == state.record_id,
            ev.c.hlc == head.hlc, ev.c.origin_node_id == head.origin_node_id)
        found = session.execute(query).scalar()
        if found is None:  # the record's base: its event was compacted away
            cr = compacted_records.c
            found = session.execute(sa.select(cr.event_id).where(
                cr.entity == state.entity.name, cr.record_id == state.record_id,
                cr.hlc == head.hlc, cr.origin_node_id == head.origin_node_id)).scalar_one()
        head.event_id = str(found)
    return head.event_id


def ensure_loaded(session: Session, registry: Registry, head: Head) -> Head:
    """Read a head's states and author from its stored event (upcast), once."""
    if not head.loaded and head.event_id is not None:
        row = session.execute(sa.select(ev).where(ev.c.event_id == head.event_id)).first()
        if row is None:  # the record's base: its event was compacted away
            row = session.execute(sa.select(*BASE_EVENT_COLUMNS).where(
                compacted_records.c.event_id == head.event_id)).one()
        event = upcast(registry, ChangeEvent.from_row(row._mapping))
        head.state, head.pre_state, head.user_id = event.post_state, event.pre_state, event.user_id
        head.loaded = True
    return head


def histories(session: Session, registry: Registry, entity: str,
              record_ids: Iterable[str]) -> dict[str, History]:
    """The histories of some records of one entity: every event as a stub (ids, clock
    and vectors), one query per 500 records; whole events (upcast) are read when a
    merge needs their states (prefetch() reads many records' at once)."""
    stubs: dict[str, list[Stub]] = defaultdict(list)
    for chunk in chunks(sorted(set(record_ids))):
        query = _of_records(list_style(session))
        for row in session.execute(query, {"entity": entity, "ids": chunk}):
            stubs[row.record_id].append(Stub(row.event_id, row.origin_node_id, row.hlc,
                                             canonical.loads_vector(row.vv_before),
                                             canonical.loads_vector(row.vv_after)))

    def load(ids: list[str]) -> list[ChangeEvent]:
        return whole_events(session, registry, ids)
    bases = base_events(session, registry, entity, record_ids)
    return {rid: History(stubs.get(rid, []), load, bases.get(rid))
            for rid in sorted(stubs.keys() | bases.keys())}


def base_events(session: Session, registry: Registry, entity: str,
                record_ids: Iterable[str]) -> dict[str, ChangeEvent]:
    """{record id: its base event (upcast)} for those whose history was compacted."""
    found: dict[str, ChangeEvent] = {}
    cr = compacted_records.c
    for chunk in chunks(sorted(set(record_ids))):
        for row in session.execute(sa.select(*BASE_EVENT_COLUMNS).where(
                cr.entity == entity, cr.record_id.in_(chunk))):
            found[row.record_id] = upcast(registry, ChangeEvent.from_row(row._mapping))
    return found


def whole_events(session: Session, registry: Registry, ids: list[str]) -> list[ChangeEvent]:
    """These events, whole and upcast (one query per 500; what is not an id names none)."""
    found = []
    query = _events_by_id(list_style(session))
    for chunk in chunks(i for i in ids if is_token(i)):
        for row in session.execute(query, {"ids": chunk}):
            found.append(upcast(registry, ChangeEvent.from_row(row._mapping)))
    return found


def prefetch(session: Session, registry: Registry, wanted: dict[str, list[str]],
             found: dict[str, History]) -> None:
    """Read the whole events that several records' histories will need, in one go:
    wanted maps a record id to ids of its events."""
    events = {e.event_id: e for e in whole_events(
        session, registry, sorted({i for ids in wanted.values() for i in ids}))}
    for rid, ids in wanted.items():
        found[rid].add(events[i] for i in ids if i in events)


def fill(history: History, head: Head) -> Head:
    """A head's event id, states and author from the history that holds its event."""
    if head.loaded and head.event_id is not None:
        return head
    dot = (head.origin_node_id, head.vv.get(head.origin_node_id, 0))
    known = history.by_dot.get(dot)
    if known is None and history.base is not None and dot == (
            history.base.origin_node_id, history.base.vv_after.get(dot[0], 0)):
        known = history.base
    if known is not None:
        head.event_id = known.event_id
        if not head.loaded:
            event = history.event(known)
            head.state, head.pre_state = event.post_state, event.pre_state
            head.user_id, head.loaded = event.user_id, True
    return head


@cache
def _events_by_id(style: str) -> sa.Select[Any]:
    """Built once per list style: the ids go as one list parameter where the database
    takes one (expanding hundreds of bound ids cost more than the query)."""
    return sa.select(ev).where(one_of(ev.c.event_id, "ids", style))


@cache
def _of_records(style: str) -> sa.Select[Any]:
    return sa.select(ev.c.record_id, ev.c.event_id, ev.c.origin_node_id, ev.c.hlc,
                     ev.c.vv_before, ev.c.vv_after).where(
        ev.c.entity == sa.bindparam("entity"), one_of(ev.c.record_id, "ids", style))
