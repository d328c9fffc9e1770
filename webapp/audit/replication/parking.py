"""Remote events that refer to a record this node has not seen yet (a project whose
team was made on another node and has not arrived) wait in parked_events. They are
never dropped: each batch retries the ones waiting on a record it brought."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity, Registry
from ..events import ChangeEvent
from .sqlkit import inline, tokens
from .state import States
from .tables import parked_events as parked
from .wire import event_from_wire, event_to_wire

Waiting = tuple[str, str]  # (entity, record id) an event waits for


def targets(registry: Registry, events: Iterable[ChangeEvent]) -> list[Waiting]:
    """The records the events' states refer to (to load them all in one go)."""
    found = []
    for event in events:
        if event.post_state is not None:
            for name, target in _refs(registry.get(event.entity)):
                if event.post_state.get(name) is not None:
                    found.append((target, str(event.post_state[name])))
    return found


_REFS: dict[int, list[tuple[str, str]]] = {}


def _refs(entity: Entity) -> list[tuple[str, str]]:
    """entity.refs, worked out once per entity (it is read for every event)."""
    if id(entity) not in _REFS:
        _REFS[id(entity)] = sorted(entity.refs.items())
    return _REFS[id(entity)]


def missing_target(registry: Registry, states: States, event: ChangeEvent) -> Waiting | None:
    """The first record the event's state refers to that this node does not know at
    all. A deleted target is known: the event applies, as it did at its origin."""
    wanted = targets(registry, [event])
    return next((key for key in wanted if not states.get(*key).heads), None)


def park(session: Session, source: str, event: ChangeEvent, waiting: Waiting, hlc: int,
         again: bool) -> None:
    values = {"waiting_entity": waiting[0], "waiting_record_id": waiting[1]}
    if again:
        session.execute(parked.update().where(parked.c.event_id == event.event_id)
                        .values(**values))
        return
    session.execute(parked.insert().values(
        event_id=event.event_id, source_node_id=source, parked_hlc=hlc,
        body=canonical.dumps(event_to_wire(event)), **values))


def parked_ids(session: Session, event_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(event_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = {"ids": ids[start:start + 500]}
        found.update(session.execute(_parked(inline(session)), chunk).scalars())
    return found


@cache
def _parked(inl: bool) -> sa.Select[Any]:
    return sa.select(parked.c.event_id).where(parked.c.event_id.in_(tokens("ids", inl)))


def waiting_on(session: Session, keys: Iterable[Waiting]) -> list[ChangeEvent]:
    """Parked events waiting for one of `keys`, oldest parked first."""
    wanted = set(keys)
    ids = sorted({record_id for _, record_id in wanted})
    found = []
    for start in range(0, len(ids), 500):
        chunk = {"ids": ids[start:start + 500]}
        for row in session.execute(_waiting(inline(session)), chunk):
            if (row.waiting_entity, row.waiting_record_id) in wanted:
                found.append((row.parked_hlc, row.event_id, canonical.loads(row.body)))
    return [event_from_wire(body) for _, _, body in sorted(found)]


@cache
def _waiting(inl: bool) -> sa.Select[Any]:
    return sa.select(parked).where(parked.c.waiting_record_id.in_(tokens("ids", inl)))


def unpark(session: Session, event_ids: list[str]) -> None:
    for start in range(0, len(event_ids), 500):
        session.execute(parked.delete().where(
            parked.c.event_id.in_(event_ids[start:start + 500])))


def parked_count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(parked)).scalar_one())
