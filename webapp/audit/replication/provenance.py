"""Where each field of a record's value came from (a record page's "Set by" column),
remembered per process: the answer for a record at a version vector never changes
(events are immutable), so a record viewed again at the same vector reads only the few
events it names, and one that changed since walks back only to where it was last seen.

Without this, every view of a record with a long history read and decoded all of its
events (a record with ~1,000 events: ~60 ms of CPU per view)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..entity import Registry
from ..events import ChangeEvent
from ..store import upcast
from ..tables import change_events as ev
from .headevents import histories, whole_events
from .history import History, same_vector

SIZE = 2048  # records remembered per process (a few field names and ids each)
FEW_READS = 8  # events read one by one on a walk from a remembered answer, before the rest


@dataclass(frozen=True)
class Answer:
    vector: Mapping[str, int]
    wanted: frozenset[str]
    sources: Mapping[str, str]  # field -> id of the event that set it


class Remembered:
    """A bounded, thread-safe memo of the last Answer per (entity, record id)."""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._answers: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, entity: str, record_id: str) -> Answer | None:
        with self._lock:
            found = self._answers.get((entity, record_id))
            if found is not None:
                self._answers.move_to_end((entity, record_id))
            return found

    def put(self, entity: str, record_id: str, answer: Answer) -> None:
        with self._lock:
            self._answers[(entity, record_id)] = answer
            self._answers.move_to_end((entity, record_id))
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


REMEMBERED = Remembered()


def field_sources(session: Session, registry: Registry, entity: str, record_id: str,
                  at: dict[str, int], fields: Iterable[str],
                  memo: Remembered = REMEMBERED,
                  held: Mapping[str, Mapping[Any, Any]] | None = None) -> dict[str, ChangeEvent]:
    """For a record as `at` (its version vector) has it: the event each field's value
    came from, merges followed to the side that made the change. A field whose event
    this node does not hold (compacted, say) is left out. `held`: rows of change_events
    the caller has read already, by event id (a record page's newest events, which
    usually hold the sources), decoded here instead of read again."""
    wanted = frozenset(fields)
    last = memo.get(entity, record_id)
    usable = last if last is not None and wanted <= last.wanted else None
    if usable is not None and same_vector(usable.vector, at):
        ids = {name: eid for name, eid in usable.sources.items() if name in wanted}
    else:
        walked = _walk(session, registry, entity, record_id, at, wanted, usable)
        if walked is None:
            return {}
        ids = walked
        memo.put(entity, record_id, Answer(dict(at), wanted, ids))
    named, held = sorted(set(ids.values())), held or {}
    events = {i: upcast(registry, ChangeEvent.from_row(held[i])) for i in named if i in held}
    events.update((e.event_id, e) for e in whole_events(
        session, registry, [i for i in named if i not in held]))
    return {name: events[eid] for name, eid in ids.items() if eid in events}


def _walk(session: Session, registry: Registry, entity: str, record_id: str,
          at: dict[str, int], wanted: frozenset[str], last: Answer | None) -> dict[str, str] | None:
    """Walk the record's history back from `at`: from the last answer on (its events
    read one by one as the walk reaches them), or, with none, over all its events read
    at once. None when this node holds no event of the record."""
    if last is not None:
        stubs = histories(session, registry, entity, [record_id]).get(record_id)
        if stubs is None:
            return None
        known = list(stubs.by_dot.values())
        reads = 0

        def load(ids: list[str]) -> list[ChangeEvent]:
            """The first few events one by one (the walk usually stops after them); then
            all the rest at once, for a walk that goes far (past a merge, say)."""
            nonlocal reads
            reads += 1
            if reads > FEW_READS:
                ids = sorted({*ids, *history.missing(known)})
            return whole_events(session, registry, ids)
        history = History(known, load)
        return history.sources(at, wanted, (last.vector, last.sources))
    events = _all_events(session, registry, entity, record_id)
    if not events:
        return None
    return History(events).sources(at, wanted)


def _all_events(session: Session, registry: Registry, entity: str,
                record_id: str) -> list[ChangeEvent]:
    """Every event of the record held here, whole and upcast, in one query."""
    query = sa.select(ev).where(ev.c.entity == entity, ev.c.record_id == record_id)
    return [upcast(registry, ChangeEvent.from_row(row._mapping))
            for row in session.execute(query)]
