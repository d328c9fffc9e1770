"""Where each field of a record's value came from (a record page's "Set by" column),
remembered per process: the answer for a record at a version vector never changes
(events are immutable), so a record viewed again at the same vector reads nothing, and
one that changed since walks back only to where it was last seen.

Without this, every view of a record with a long history read and decoded all of its
events (a record with ~1,000 events: ~60 ms of CPU per view).

The answer keeps a stamp of each event it names (who made it, where, when: what the
column shows), not the event, so memory stays a few hundred bytes per record. Stamps
are kept with the compaction generation they were read under (the greatest seq any
compaction removed): an event a compaction removed since is not shown from memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..entity import Registry
from ..events import ChangeEvent
from ..store import upcast
from ..tables import change_events as ev
from .headevents import histories, whole_events
from .history import History, same_vector

SIZE = 2048  # records remembered per process (a few field names, ids and stamps each)
FEW_READS = 8  # events read one by one on a walk from a remembered answer, before the rest


@dataclass(frozen=True, slots=True)
class Stamp:
    """Of an event: what a field's "Set by" shows."""
    event_id: str
    op: str
    hlc: int
    origin_node_id: str
    user_id: str | None

    @classmethod
    def of(cls, event: ChangeEvent | Mapping[str, Any]) -> Stamp:
        """The stamp of an event, or of its change_events row."""
        if isinstance(event, ChangeEvent):
            return cls(event.event_id, event.op, event.hlc, event.origin_node_id, event.user_id)
        return cls(str(event["event_id"]), str(event["op"]), int(event["hlc"]),
                   str(event["origin_node_id"]), event["user_id"])


@dataclass(frozen=True)
class Answer:
    vector: Mapping[str, int]
    wanted: frozenset[str]
    sources: Mapping[str, str]  # field -> id of the event that set it
    # By event id, as read under `generation` (None: this node does not hold it).
    stamps: Mapping[str, Stamp | None] | None = None
    generation: int | None = None


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
                  held: Mapping[str, Mapping[Any, Any]] | None = None,
                  generation: int | None = None) -> dict[str, Stamp]:
    """For a record as `at` (its version vector) has it: the stamp of the event each
    field's value came from, merges followed to the side that made the change. A field
    whose event this node does not hold (compacted, say) is left out. `held`: rows of
    change_events the caller has read already, by event id (a record page's newest
    events, which usually hold the sources), not read again. `generation`: this node's
    compaction generation (points.compacted_through), if the caller knows it: stamps
    remembered under the same one are shown without reading anything."""
    wanted = frozenset(fields)
    last = memo.get(entity, record_id)
    usable = last if last is not None and wanted <= last.wanted else None
    if usable is not None and same_vector(usable.vector, at):
        answer = usable
    else:
        walked = _walk(session, registry, entity, record_id, at, wanted, usable)
        if walked is None:
            return {}
        answer = Answer(dict(at), wanted, walked)
    ids = {name: eid for name, eid in answer.sources.items() if name in wanted}
    named = set(ids.values())
    stamps = answer.stamps if answer.generation == generation else None
    if generation is None or stamps is None or not named <= stamps.keys():
        held = held or {}
        stamps = {**dict.fromkeys(named), **{i: Stamp.of(held[i]) for i in named if i in held}}
        stamps.update((e.event_id, Stamp.of(e)) for e in whole_events(
            session, registry, sorted(i for i in named if i not in held)))
        memo.put(entity, record_id, replace(answer, stamps=stamps, generation=generation))
    return {name: found for name, eid in ids.items() if (found := stamps[eid]) is not None}


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
