"""One audited transaction: holds the node lock, the current state of the records it
touches, and the writes and events it will flush together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import canonical, keys
from .entity import Entity, Registry
from .events import ChangeEvent
from .hlc import HybridClock
from .idlists import list_style, one_of
from .ids import is_ulid
from .node import lock_node, save_node
from .prepared import SMALL, Pipeline, Prepared, insert_rows
from .tables import change_events, tombstones
from .writer import Check, flush_writes

Record = dict[str, Any]
Settle = Callable[[], None]  # reads the answer of a query sent earlier (see queue_read)
# Called with the transaction after its writes and events are flushed, before commit:
# replication registers one that closes the conflicts a local command settles. A hook
# runs in tx.pipeline: it calls tx.pipeline.end() before any statement not prepared.
AFTER_FLUSH: list[Callable[[Transaction], None]] = []
# Run before a command's transaction takes the node lock, in transactions of their own.
BEFORE_LOCK: list[Callable[[Session, Registry, str], None]] = []  # (..., node id)


def record_from_row(row: Any) -> Record:
    return record_from_mapping(row._mapping)


def record_from_mapping(columns: Mapping[str, Any]) -> Record:
    """A record from its table's columns, by name."""
    return _with_vv(dict(columns))


def _with_vv(record: Record) -> Record:
    record["vv"] = canonical.loads(record["vv"])
    return record


def state_of(entity: Entity, record: Record | None) -> dict[str, Any] | None:
    """The full record as events carry it: its id and every declared field."""
    if record is None:
        return None
    return {"id": record["id"], **{name: record[name] for name in entity.fields}}


class Transaction:
    def __init__(self, session: Session, registry: Registry, clock: HybridClock, node_id: str,
                 warm: Callable[[Transaction], Settle] | None = None):
        """Take the node lock. `warm` queues the reads the commands will check, once the
        lock is held; where the driver pipelines, they share the lock's round trip, and
        the Settle it returns reads their answers once that trip is over."""
        self.session = session
        self.registry = registry
        self.clock = clock
        self.node_id = node_id
        self.conn = session.connection()  # fetched once: each fetch costs a statement's time
        self._records: dict[tuple[str, str], Record | None] = {}
        self._tombs: dict[tuple[str, str], bool] = {}
        self._owners: dict[tuple[str, str, Any], str | None] = {}  # unique value -> record id
        self._inserts: dict[str, list[Record]] = defaultdict(list)
        self._updates: dict[str, list[tuple[int, Record]]] = defaultdict(list)
        self._deletes: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._tombstones: list[dict[str, Any]] = []
        self._checks: list[Check] = []
        self.events: list[ChangeEvent] = []
        self.pipeline = Pipeline(self.conn, enabled=warm is not None)
        with self.pipeline:  # `warm` may run only prepared statements (see Pipeline)
            state = lock_node(self.conn)
            settle = None if warm is None else warm(self)
        self.cursor = state()
        if settle is not None:
            settle()
        clock.observe(self.cursor.last_hlc)

    # -- reads, cached for the life of the transaction --------------------------------
    def prefetch(self, entity: Entity, ids: Iterable[str]) -> None:
        wanted = sorted({i for i in ids if (entity.name, i) not in self._records})
        if not wanted:  # the common case inside a batch: prefetched already
            return
        if len(wanted) == 1:
            self.queue_read(entity, wanted[0])()
            return
        for chunk in _id_chunks(wanted, self._records, entity, None):
            rows = self.session.execute(_by_ids(entity.table, list_style(self.conn)),
                                        {"b_ids": chunk})
            found = {r.id: record_from_row(r) for r in rows}
            for record_id in chunk:
                self._records[(entity.name, record_id)] = found.get(record_id)

    def queue_read(self, entity: Entity, record_id: str) -> Settle:
        """One record's read, sent; the Settle reads its answer into the cache."""
        if (entity.name, record_id) in self._records:
            return _settled
        read = _by_id(entity.table)
        sent = read.execute(self.conn, {"b_id": record_id})

        def settle() -> None:
            rows = read.fetched(self.conn, sent)
            self._records[(entity.name, record_id)] = _with_vv(
                dict(zip(read.names, rows[0], strict=True))) if rows else None
        return settle

    def record(self, entity: Entity, record_id: str) -> Record | None:
        self.prefetch(entity, [record_id])
        return self._records[(entity.name, record_id)]

    def prefetch_tombstones(self, entity: Entity, ids: Iterable[str]) -> None:
        wanted = sorted({i for i in ids if (entity.name, i) not in self._tombs})
        if not wanted:
            return
        for chunk in _id_chunks(wanted, self._tombs, entity, False):
            found = set(self.session.execute(_tombstoned(list_style(self.conn)), {
                "b_entity": entity.name, "b_ids": chunk}).scalars())
            for record_id in chunk:
                self._tombs[(entity.name, record_id)] = record_id in found

    def is_tombstoned(self, entity: Entity, record_id: str) -> bool:
        self.prefetch_tombstones(entity, [record_id])
        return self._tombs[(entity.name, record_id)]

    def owner_of(self, entity: Entity, field: str, value: Any) -> str | None:
        """Which record holds `value` in unique `field`, seeing this transaction's writes."""
        self.prefetch_owners(entity, field, [value])
        return self._owners[(entity.name, field, value)]

    def prefetch_owners(self, entity: Entity, field: str, values: Iterable[Any]) -> None:
        wanted = sorted({v for v in values if (entity.name, field, v) not in self._owners})
        for chunk in chunks(wanted):
            rows = self.session.execute(_owners(entity.table, field), {"b_values": chunk})
            found = {r[1]: r[0] for r in rows}
            for value in chunk:
                self._owners[(entity.name, field, value)] = found.get(value)

    def probe_create(self, entity: Entity, record_id: str, values: dict[str, Any]) -> None:
        """One round trip for what a create checks: does the id exist or did it, and who
        holds each unique value. Fills the caches that record(), is_tombstoned() and
        owner_of() read; an existing record is left for record() to fetch in full."""
        self.queue_probe(entity, record_id, values)()

    def queue_probe(self, entity: Entity, record_id: str, values: dict[str, Any]) -> Settle:
        """probe_create's query, sent; the Settle reads its answer into the caches."""
        uniques = [(f, values.get(f)) for f in entity.unique_fields]
        cached = (entity.name, record_id) in self._records and (
            (entity.name, record_id) in self._tombs) and all(
            v is None or (entity.name, f, v) in self._owners for f, v in uniques)
        if cached:
            return _settled
        params: dict[str, Any] = {"b_id": record_id, "b_entity": entity.name}
        params.update({f"b_u{i}": v for i, (_, v) in enumerate(uniques)})
        probe = _create_probe(entity.table, tuple(f for f, _ in uniques))
        sent = probe.execute(self.conn, params)

        def settle() -> None:
            found = {kind: hit for kind, hit in probe.fetched(self.conn, sent)}
            # Only fill what is not cached: a cached entry may hold this transaction's
            # own buffered writes, which the database does not show yet.
            if "r" not in found:
                self._records.setdefault((entity.name, record_id), None)
            self._tombs.setdefault((entity.name, record_id), "t" in found)
            for i, (field, value) in enumerate(uniques):
                if value is not None:
                    self._owners.setdefault((entity.name, field, value), found.get(f"u{i}"))
        return settle

    # -- writes, buffered until flush -------------------------------------------------
    def insert(self, entity: Entity, record: Record) -> None:
        if self._updates.get(entity.name) or self._deletes.get(entity.name):
            self.write_buffered()
        self._inserts[entity.name].append(record)
        self._remember(entity, None, record)

    def update(self, entity: Entity, expected: int, before: Record, record: Record) -> None:
        if self._deletes.get(entity.name):
            self.write_buffered()
        self._updates[entity.name].append((expected, record))
        self._remember(entity, before, record)

    def write_buffered(self) -> None:
        """Buffered rows are written inserts first, then updates, then deletes. When a
        command comes after a later-written kind on the same table, write what is buffered
        first, so the rows go in command order: a unique value freed by an earlier
        update or delete in the batch is free by the time a later row takes it."""
        self._checks += flush_writes(self.conn, self.registry, self._inserts, self._updates,
                                     self._deletes)
        self._inserts.clear()
        self._updates.clear()
        self._deletes.clear()

    def delete(self, entity: Entity, expected: int, before: Record,
               tombstone: dict[str, Any]) -> None:
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

    def commit(self, commit: Callable[[], None]) -> None:
        """Flush, then `commit`. Where the driver pipelines, a small transaction's writes
        and its COMMIT go in one round trip; when it made conditional writes (updates,
        deletes) their row counts are checked first and the COMMIT follows."""
        self.pipeline = Pipeline(self.conn, enabled=len(self.events) <= SMALL)
        with self.pipeline:
            self._flush()
            if not self._checks:
                self.pipeline.queue_commit(self.session)
        self.check_writes()
        commit()

    def check_writes(self) -> None:
        checks, self._checks = self._checks, []
        for check in checks:
            check()

    def _flush(self) -> None:
        """Write everything buffered, the events and the node state; the conditional
        writes' checks stay pending for commit() (see Pipeline)."""
        self.write_buffered()
        if self._tombstones:
            insert_rows(self.conn, tombstones, self._tombstones)
        if self.events:
            keys.sign_last(self.events, self.node_id, self.cursor.public_key)
            insert_rows(self.conn, change_events, [e.to_row() for e in self.events])
            save_node(self.conn, self.cursor)
            for hook in AFTER_FLUSH:
                hook(self)


def _settled() -> None:
    """Nothing was sent: the caches already held the answer."""


def _id_chunks(ids: list[str], known: dict[tuple[str, str], Any], entity: Entity,
               absent: Any) -> Iterator[list[str]]:
    """`ids` as IN lists; one that is not a ULID names no record, and is cached as
    `absent` without a query (an id list holds only ids: see idlists.py)."""
    valid = []
    for record_id in ids:
        if is_ulid(record_id):
            valid.append(record_id)
        else:
            known[(entity.name, record_id)] = absent
    return chunks(valid)


CHUNK = 500  # ids per IN list


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """`items` sorted and without repeats, `size` at a time: one IN list each."""
    ordered = sorted(set(items))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


# Statements are built once per table: building one costs more than running it on SQLite.
# Those every single-command transaction runs are prepared (see prepared.py).
@cache
def _tombstoned(style: str) -> sa.Select[Any]:
    return sa.select(tombstones.c.record_id).where(
        tombstones.c.entity == sa.bindparam("b_entity"),
        one_of(tombstones.c.record_id, "b_ids", style))


@cache
def _by_id(table: sa.Table) -> Prepared:
    return Prepared(sa.select(table).where(table.c.id == sa.bindparam("b_id")))


@cache
def _by_ids(table: sa.Table, style: str) -> sa.Select[Any]:
    return sa.select(table).where(one_of(table.c.id, "b_ids", style))


@cache
def _owners(table: sa.Table, field: str) -> sa.Select[Any]:
    column = table.c[field]
    return sa.select(table.c.id, column).where(
        column.in_(sa.bindparam("b_values", expanding=True)))


@cache
def _create_probe(table: sa.Table, unique_fields: tuple[str, ...]) -> Prepared:
    """(kind, id) rows: 'r' the record exists, 't' it was deleted, 'u<i>' the record
    holding unique value i."""
    def kind(name: str) -> Any:
        return sa.literal_column(f"'{name}'").label("kind")

    parts = [sa.select(kind("r"), table.c.id.label("hit")).where(
                 table.c.id == sa.bindparam("b_id")),
             sa.select(kind("t"), tombstones.c.record_id).where(
                 tombstones.c.entity == sa.bindparam("b_entity"),
                 tombstones.c.record_id == sa.bindparam("b_id"))]
    parts += [sa.select(kind(f"u{i}"), table.c.id).where(table.c[f] == sa.bindparam(f"b_u{i}"))
              for i, f in enumerate(unique_fields)]
    return Prepared(sa.union_all(*parts))
