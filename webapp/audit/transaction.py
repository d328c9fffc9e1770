"""One audited transaction: holds the node lock, the current state of the records it
touches, and the writes and events it will flush together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import canonical
from .entity import Entity, Registry
from .events import ChangeEvent
from .hlc import HybridClock
from .node import lock_node, save_node
from .tables import change_events, tombstones

Record = dict[str, Any]
SYSTEM_COLUMNS = ("id", "version", "vv", "hlc", "origin_node_id")


def record_from_row(row: Any) -> Record:
    record = dict(row._mapping)
    record["vv"] = canonical.loads(record["vv"])
    return record


def state_of(entity: Entity, record: Record | None) -> dict[str, Any] | None:
    """The full record as events carry it: its id and every declared field."""
    if record is None:
        return None
    return {"id": record["id"], **{name: record[name] for name in entity.fields}}


class Transaction:
    def __init__(self, session: Session, registry: Registry, clock: HybridClock, node_id: str):
        self.session = session
        self.registry = registry
        self.clock = clock
        self.node_id = node_id
        self.cursor = lock_node(session)
        clock.observe(self.cursor.last_hlc)
        self._records: dict[tuple[str, str], Record | None] = {}
        self._tombs: dict[tuple[str, str], bool] = {}
        self._owners: dict[tuple[str, str, Any], str | None] = {}  # unique value -> record id
        self._inserts: dict[str, list[Record]] = defaultdict(list)
        self._updates: dict[str, list[tuple[int, Record]]] = defaultdict(list)
        self._deletes: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._tombstones: list[dict[str, Any]] = []
        self.events: list[ChangeEvent] = []

    # -- reads, cached for the life of the transaction --------------------------------
    def prefetch(self, entity: Entity, ids: Iterable[str]) -> None:
        wanted = {i for i in ids if (entity.name, i) not in self._records}
        for chunk in _chunks(sorted(wanted), 500):
            rows = self.session.execute(sa.select(entity.table).where(entity.table.c.id.in_(chunk)))
            found = {r.id: record_from_row(r) for r in rows}
            for record_id in chunk:
                self._records[(entity.name, record_id)] = found.get(record_id)

    def record(self, entity: Entity, record_id: str) -> Record | None:
        self.prefetch(entity, [record_id])
        return self._records[(entity.name, record_id)]

    def prefetch_tombstones(self, entity: Entity, ids: Iterable[str]) -> None:
        wanted = sorted({i for i in ids if (entity.name, i) not in self._tombs})
        for chunk in _chunks(wanted, 500):
            query = sa.select(tombstones.c.record_id).where(
                tombstones.c.entity == entity.name, tombstones.c.record_id.in_(chunk))
            found = set(self.session.execute(query).scalars())
            for record_id in chunk:
                self._tombs[(entity.name, record_id)] = record_id in found

    def is_tombstoned(self, entity: Entity, record_id: str) -> bool:
        self.prefetch_tombstones(entity, [record_id])
        return self._tombs[(entity.name, record_id)]

    def owner_of(self, entity: Entity, field: str, value: Any) -> str | None:
        """Which record holds `value` in unique `field`, seeing this transaction's writes."""
        key = (entity.name, field, value)
        if key not in self._owners:
            column = entity.table.c[field]
            row = self.session.execute(sa.select(entity.table.c.id).where(column == value)).first()
            self._owners[key] = row.id if row else None
        return self._owners[key]

    def prefetch_owners(self, entity: Entity, field: str, values: Iterable[Any]) -> None:
        wanted = sorted({v for v in values if (entity.name, field, v) not in self._owners})
        column = entity.table.c[field]
        for chunk in _chunks(wanted, 500):
            rows = self.session.execute(sa.select(entity.table.c.id, column).where(column.in_(chunk)))
            found = {r[1]: r[0] for r in rows}
            for value in chunk:
                self._owners[(entity.name, field, value)] = found.get(value)

    # -- writes, buffered until flush -------------------------------------------------
    def insert(self, entity: Entity, record: Record) -> None:
        self._inserts[entity.name].append(record)
        self._remember(entity, None, record)

    def update(self, entity: Entity, expected: int, before: Record, record: Record) -> None:
        self._updates[entity.name].append((expected, record))
        self._remember(entity, before, record)

    def delete(self, entity: Entity, expected: int, before: Record, tombstone: dict[str, Any]) -> None:
        self._deletes[entity.name].append((expected, before["id"]))
        self._tombstones.append(tombstone)
        self._tombs[(entity.name, before["id"])] = True
        self._remember(entity, before, None)

    def _remember(self, entity: Entity, before: Record | None, after: Record | None) -> None:
        record_id = (after or before or {})["id"]
        self._records[(entity.name, record_id)] = after
        for field in entity.unique_fields:
            if before is not None:
                self._owners[(entity.name, field, before[field])] = None
            if after is not None and after[field] is not None:
                self._owners[(entity.name, field, after[field])] = record_id

    def next_event_slot(self) -> tuple[int, int]:
        """(seq, hlc) for the next event: both rise together under the node lock."""
        self.cursor.last_seq += 1
        self.cursor.last_hlc = self.clock.now()
        return self.cursor.last_seq, self.cursor.last_hlc

    def add_event(self, event: ChangeEvent) -> ChangeEvent:
        self.cursor.last_hash = event.hash
        self.events.append(event)
        return event

    def flush(self) -> None:
        from .writer import flush_writes

        flush_writes(self.session, self.registry, self._inserts, self._updates, self._deletes)
        if self._tombstones:
            self.session.execute(tombstones.insert(), self._tombstones)
        if self.events:
            self.session.execute(change_events.insert(), [e.to_row() for e in self.events])
            save_node(self.session, self.cursor)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
