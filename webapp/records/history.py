"""A record with its history: the current row, or the tombstone of a deleted one, one
keyset page of its events, and the state as of any of them. Also what a revert asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..audit import replication, store
from ..audit.compaction.points import CompactedRecord, compacted_record
from ..audit.entity import Entity, Registry
from ..audit.events import ChangeEvent
from ..audit.lookups import Tombstone, get_tombstone
from ..audit.replication.provenance import Stamp
from ..audit.store import Cursor
from ..audit.transaction import Record
from ..timeline.beside import AUTHORS_AND_SIDES


@dataclass(frozen=True)
class RecordHistory:
    current: dict[str, Any] | None  # None once deleted (or never seen here)
    tombstone: Tombstone | None
    stored: list[Any]  # a page of its events, as store.timeline_rows reads them (beside.py)
    next_cursor: Cursor | None
    # Where its kept history starts (the rest compacted), read where a page shows it:
    # on the page that reaches its oldest kept event, or when nothing else is kept.
    compacted: CompactedRecord | None = None

    @property
    def exists(self) -> bool:
        return (self.current is not None or self.tombstone is not None or bool(self.stored)
                or self.compacted is not None)

    @property
    def last_state(self) -> dict[str, Any] | None:
        """What to show as the record: the live row, else its state when deleted."""
        if self.current is not None:
            return self.current
        if self.tombstone is not None and self.tombstone.last_state is not None:
            return self.tombstone.last_state
        return None


def load(session: Session, registry: Registry, entity: Entity, record_id: str,
         current: Record | None, before: Cursor | None, limit: int) -> RecordHistory:
    """The record's page of history; `current`: its row (get_record), as read."""
    tomb = None if current is not None else get_tombstone(session, entity.name, record_id,
                                                          registry)
    stored, next_cursor = store.timeline_rows(
        session, store.TimelineFilter(entity=entity.name, record_id=record_id), before, limit,
        AUTHORS_AND_SIDES)
    ends = next_cursor is None or (current is None and tomb is None and not stored)
    return RecordHistory(current, tomb, stored, next_cursor,
                         compacted_record(session, entity.name, record_id) if ends else None)


def field_sources(session: Session, registry: Registry, entity: Entity,
                  found: RecordHistory, generation: int) -> dict[str, Stamp]:
    """Which event each field of the current record came from (merges followed); those
    on the page already are not read again, nor any remembered under this compaction
    `generation` (points.compacted_through)."""
    if found.current is None:
        return {}
    return replication.field_sources(
        session, registry, entity.name, found.current["id"], found.current["vv"],
        entity.fields, held={row.event_id: row._mapping for row in found.stored},
        generation=generation)


def event_of(session: Session, registry: Registry, entity: Entity, record_id: str,
             event_id: str) -> ChangeEvent | None:
    """The event, upcast, if it is one of this record's; else None."""
    event = store.get_event(session, event_id)
    if event is None or event.entity != entity.name or event.record_id != record_id:
        return None
    return store.upcast(registry, event)


def fields_of(entity: Entity, state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A record as its events carry it: its id and declared fields, without the row's
    system columns (version, version vector, HLC, origin), which are not fields."""
    if state is None:
        return None
    return {"id": state.get("id"), **{name: state.get(name) for name in entity.fields}}


def state_after(event: ChangeEvent) -> dict[str, Any] | None:
    """The record as this event left it; for a delete, the state it deleted."""
    return event.post_state if event.post_state is not None else event.pre_state


def revert_params(entity: Entity, target: dict[str, Any] | None,
                  current: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of `target` that differ from `current`, as update params. Secret fields
    are never reverted: an old password hash must not come back through a revert."""
    if target is None or current is None:
        return {}
    return {name: target[name] for name in entity.fields
            if name in target and name not in entity.secret_fields
            and target[name] != current.get(name)}
