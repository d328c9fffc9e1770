"""What a batch knows about each record it touches: the stored row or tombstone, the
suffixed unique values, and the heads, loaded once per batch and changed in memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity, Registry
from ..idlists import list_style, one_of
from ..tables import tombstones
from ..transaction import chunks, state_of
from .heads import Head, merged
from .tables import replication_heads, unique_renames

Key = tuple[str, str]  # (entity name, record id)


@dataclass
class RecordState:
    entity: Entity
    record_id: str
    row: dict[str, Any] | None  # the stored row (vv decoded), None when not live
    tomb: dict[str, Any] | None
    renames: dict[str, Any]  # unique field -> this record's own value, when suffixed
    heads: list[Head]
    had_heads_rows: bool
    changed: bool = False
    # An event of this batch came out of line (written on several versions, or late):
    # the collisions its history settled are read again from all of its events.
    recheck: bool = False
    # The row as its events say it is: suffixed unique values put back. (The row is read
    # once per batch and written at its end, so this does not change.)
    logical: dict[str, Any] | None = field(init=False)

    def __post_init__(self) -> None:
        state = state_of(self.entity, self.row)
        self.logical = None if state is None else {**state, **self.renames}


class States:
    def __init__(self, session: Session, registry: Registry) -> None:
        self.session = session
        self.registry = registry
        self._by_key: dict[Key, RecordState] = {}
        self._some: dict[tuple[str, str], bool] = {}

    def get(self, entity: str, record_id: str) -> RecordState:
        if (entity, record_id) not in self._by_key:
            self.ensure([(entity, record_id)])
        return self._by_key[(entity, record_id)]

    def changed(self) -> list[RecordState]:
        return [s for s in self._by_key.values() if s.changed]

    def ensure(self, keys: Iterable[Key]) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        for name, record_id in keys:
            if (name, record_id) not in self._by_key:
                wanted[name].add(record_id)
        for name, ids in wanted.items():
            entity = self.registry.get(name)
            for chunk in chunks(ids):
                self._load(entity, chunk)

    def _any(self, table: sa.Table, entity: Entity) -> bool:
        """Whether `table` has any row of this entity: most often it has none, and one
        probe per batch saves an IN query per 500 records."""
        key = (table.name, entity.name)
        if key not in self._some:
            probe = sa.select(table.c.record_id).where(table.c.entity == entity.name).limit(1)
            self._some[key] = self.session.execute(probe).first() is not None
        return self._some[key]

    def _load(self, entity: Entity, ids: list[str]) -> None:
        run, style = self.session.execute, list_style(self.session)
        rows = {r["id"]: r for r in _decoded(run(_rows(entity.table, style), {"ids": ids}))}
        params = {"entity": entity.name, "ids": ids}
        tombs, heads = {}, defaultdict(list)
        renames: dict[str, dict[str, Any]] = defaultdict(dict)
        if self._any(tombstones, entity):
            tombs = {r["record_id"]: {  # its last state at the current schema
                **r, "last_state": entity.upcast(r["last_state"], r["schema_version"])}
                for r in _decoded(run(_in_entity(tombstones, style), params))}
        if self._any(replication_heads, entity):
            for r in run(_in_entity(replication_heads, style), params):
                heads[r.record_id].append(Head(r.event_id, canonical.loads(r.vv), r.hlc,
                                               r.origin_node_id, bool(r.deleted), loaded=False))
        if entity.unique_fields and self._any(unique_renames, entity):
            for r in run(_in_entity(unique_renames, style), params):
                renames[r.record_id][r.field] = canonical.loads(r.value)
        for record_id in ids:
            row, tomb = rows.get(record_id), tombs.get(record_id)
            state = RecordState(entity, record_id, row, tomb, renames[record_id], [],
                                record_id in heads)
            current = (row or tomb or {}).get("vv")
            if heads[record_id] and merged(heads[record_id]) == current:
                state.heads = heads[record_id]
            elif row is not None:
                state.heads = [Head(None, row["vv"], row["hlc"], row["origin_node_id"], False,
                                    state.logical)]
            elif tomb is not None:
                state.heads = [Head(tomb["event_id"], tomb["vv"], tomb["hlc"],
                                    tomb["origin_node_id"], True, None, tomb["last_state"])]
            self._by_key[(entity.name, record_id)] = state


def _decoded(result: Any) -> list[dict[str, Any]]:
    """Rows as dicts with their JSON columns decoded (zip is cheaper than Row._mapping)."""
    keys = list(result.keys())
    docs = [dict(zip(keys, values, strict=True)) for values in result]
    for doc in docs:
        doc["vv"] = canonical.loads(doc["vv"])
        if "last_state" in doc:
            doc["last_state"] = canonical.loads(doc["last_state"])
    return docs


@cache
def _rows(table: sa.Table, style: str) -> sa.Select[Any]:
    return sa.select(table).where(one_of(table.c.id, "ids", style))


@cache
def _in_entity(table: sa.Table, style: str) -> sa.Select[Any]:
    return sa.select(table).where(table.c.entity == sa.bindparam("entity"),
                                  one_of(table.c.record_id, "ids", style))
