"""What a batch knows about each record it touches: the stored row or tombstone, the
suffixed unique values, and the heads, loaded once per batch and changed in memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity, Registry
from ..store import upcast
from ..tables import change_events as ev
from ..tables import tombstones
from ..transaction import state_of
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

    def logical_state(self) -> dict[str, Any] | None:
        """The row as its events say it is: suffixed unique values put back."""
        state = state_of(self.entity, self.row)
        return None if state is None else {**state, **self.renames}


class States:
    def __init__(self, session: Session, registry: Registry) -> None:
        self.session = session
        self.registry = registry
        self._by_key: dict[Key, RecordState] = {}

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
            ordered = sorted(ids)
            for start in range(0, len(ordered), 500):
                self._load(entity, ordered[start:start + 500])

    def _load(self, entity: Entity, ids: list[str]) -> None:
        run = self.session.execute
        rows = {r.id: _decoded(r._mapping) for r in run(_rows(entity.table), {"ids": ids})}
        params = {"entity": entity.name, "ids": ids}
        tombs = {r.record_id: _decoded(r._mapping) for r in run(_TOMBS, params)}
        heads: dict[str, list[Head]] = defaultdict(list)
        for r in run(_HEADS, params):
            heads[r.record_id].append(Head(r.event_id, canonical.loads(r.vv), r.hlc,
                                           r.origin_node_id, bool(r.deleted), loaded=False))
        renames: dict[str, dict[str, Any]] = defaultdict(dict)
        if entity.unique_fields:
            for r in run(_RENAMES, params):
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
                                    state.logical_state())]
            elif tomb is not None:
                state.heads = [Head(tomb["event_id"], tomb["vv"], tomb["hlc"],
                                    tomb["origin_node_id"], True, None, tomb["last_state"])]
            self._by_key[(entity.name, record_id)] = state


def ensure_event_id(session: Session, state: RecordState, head: Head) -> str:
    """The id of the event a row's head stands for (its HLC and origin name it)."""
    if head.event_id is None:
        query = sa.select(ev.c.event_id).where(
            ev.c.entity == state.entity.name, ev.c.record_id == state.record_id,
            ev.c.hlc == head.hlc, ev.c.origin_node_id == head.origin_node_id)
        head.event_id = str(session.execute(query).scalar_one())
    return head.event_id


def ensure_loaded(session: Session, registry: Registry, head: Head) -> Head:
    """Read a head's states and author from its stored event (upcast), once."""
    if not head.loaded and head.event_id is not None:
        row = session.execute(sa.select(ev).where(ev.c.event_id == head.event_id)).one()
        from ..events import ChangeEvent

        event = upcast(registry, ChangeEvent.from_row(row._mapping))
        head.state, head.pre_state, head.user_id = event.post_state, event.pre_state, event.user_id
        head.loaded = True
    return head


def _decoded(mapping: Any) -> dict[str, Any]:
    doc = dict(mapping)
    doc["vv"] = canonical.loads(doc["vv"])
    if "last_state" in doc:
        doc["last_state"] = canonical.loads(doc["last_state"])
    return doc


@cache
def _rows(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.id.in_(sa.bindparam("ids", expanding=True)))


def _in_entity(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.entity == sa.bindparam("entity"),
                                  table.c.record_id.in_(sa.bindparam("ids", expanding=True)))


_TOMBS = _in_entity(tombstones)
_HEADS = _in_entity(replication_heads)
_RENAMES = _in_entity(unique_renames)
