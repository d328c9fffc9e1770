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
from ..entity import Registry
from ..events import ChangeEvent
from ..idlists import list_style, one_of
from ..transaction import chunks
from .state import States
from .tables import parked_events as parked
from .wire import event_from_wire, event_to_wire

Waiting = tuple[str, str]  # (entity, record id) an event waits for


def targets(registry: Registry, events: Iterable[ChangeEvent]) -> list[Waiting]:
    """The records the events' states refer to (to load them all in one go)."""
    found = []
    for event in events:
        if event.post_state is not None:
            for name, target in sorted(registry.get(event.entity).refs.items()):
                if event.post_state.get(name) is not None:
                    found.append((target, str(event.post_state[name])))
    return found


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
    found: set[str] = set()
    for chunk in chunks(event_ids):
        found.update(session.execute(_parked(list_style(session)), {"ids": chunk}).scalars())
    return found


@cache
def _parked(style: str) -> sa.Select[Any]:
    return sa.select(parked.c.event_id).where(one_of(parked.c.event_id, "ids", style))


def waiting_on(session: Session, keys: Iterable[Waiting]) -> list[ChangeEvent]:
    """Parked events waiting for one of `keys`, oldest parked first."""
    wanted = set(keys)
    found = []
    for chunk in chunks(record_id for _, record_id in wanted):
        for row in session.execute(_waiting(list_style(session)), {"ids": chunk}):
            if (row.waiting_entity, row.waiting_record_id) in wanted:
                found.append((row.parked_hlc, row.event_id, canonical.loads(row.body)))
    return [event_from_wire(body) for _, _, body in sorted(found)]


@cache
def _waiting(style: str) -> sa.Select[Any]:
    return sa.select(parked).where(one_of(parked.c.waiting_record_id, "ids", style))


def unpark(session: Session, event_ids: list[str]) -> None:
    for chunk in chunks(event_ids):
        session.execute(parked.delete().where(parked.c.event_id.in_(chunk)))


def parked_count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(parked)).scalar_one())
