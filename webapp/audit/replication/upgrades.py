"""Derived data after a schema upgrade.

A record's conflicts (their disputed fields, each side's changed and lost fields, their
status) and its unique renames (kept by field name) are computed from its events at the
entity's schema version of the moment. A node upgraded later would keep the older
version's names and statuses (a field disputed at v1 may be gone at v2: merged there),
while a peer that was already upgraded computed the same events at the new version: the
nodes would differ for good.

So each node remembers per entity the version its derived data was computed at
(derived_schema_versions; no row: 1). Before a replication batch or a local command,
when the registry declares a newer one, every record of that entity with a conflict or
a unique rename is settled again at the current schema, in one transaction under the
node lock, through the path a batch takes for a record whose history came out of order
(finalize, recheck); then the new version is stored. Checked once per process and
database: later calls cost a dictionary lookup."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity, Registry
from ..node import lock_node
from ..transaction import BEFORE_LOCK
from ..uow import UnitOfWork
from .conflicts import LIVE, RECORD_KINDS, value_hash
from .finalize import finalize
from .models import SUPERSEDED, UNIQUE_COLLISION
from .state import States
from .tables import conflict_sides, conflicts, derived_versions, unique_renames

Versions = frozenset[tuple[str, int]]

# (node id, the registry's versions) already settled there by this process. Keyed by
# the node's id, not its database's address: a database made again is a new node.
# (Two threads may both settle once: the second, under the node lock, finds it done.)
_settled: set[tuple[str, Versions]] = set()


def settle_upgrades(session: Session, registry: Registry, node_id: str) -> None:
    """Bring derived data computed at older schema versions up to `registry`'s."""
    key = (node_id, frozenset((e.name, e.schema_version) for e in registry))
    if key in _settled:
        return
    with UnitOfWork(session) as uow:
        lock_node(session)()
        stored = dict(session.execute(sa.select(derived_versions.c.entity,
                                                derived_versions.c.schema_version)).all())
        for entity in registry:
            was = stored.get(entity.name, 1)
            if was < entity.schema_version:
                resettle(session, registry, entity, was)
            if entity.name not in stored or was < entity.schema_version:
                _store(session, entity, entity.name in stored)
        uow.commit()
    _settled.add(key)


def resettle(session: Session, registry: Registry, entity: Entity, was: int) -> None:
    """Every record of `entity` with a conflict or a unique rename, settled again at the
    current schema (its derived data was computed at version `was`)."""
    _upcast_renames(session, entity, was)
    _upcast_value_conflicts(session, entity, was)
    ids = _records(session, entity)
    if not ids:
        return
    states = States(session, registry)
    states.ensure((entity.name, rid) for rid in ids)
    for rid in ids:
        state = states.get(entity.name, rid)
        state.recheck = state.changed = bool(state.heads)  # no row nor tombstone: nothing
    finalize(session, registry, states.changed(), [])


def field_now(entity: Entity, name: str, value: Any, was: int) -> tuple[str, Any] | None:
    """A unique field's name and value at the current schema, or None when the field is
    gone or no longer unique. (Upcast as params are: the one field alone.)"""
    doc = entity.upcast({name: value}, was) or {}
    if len(doc) != 1:
        return None
    [(now, new)] = doc.items()
    return (now, new) if now in entity.unique_fields else None


def _upcast_renames(session: Session, entity: Entity, was: int) -> None:
    c = unique_renames.c
    rows = session.execute(sa.select(unique_renames).where(c.entity == entity.name)).all()
    if not rows:
        return
    session.execute(unique_renames.delete().where(c.entity == entity.name))
    kept = []
    for row in rows:
        now = field_now(entity, row.field, canonical.loads(row.value), was)
        if now is not None:
            kept.append({"entity": entity.name, "field": now[0], "record_id": row.record_id,
                         "value_hash": value_hash(now[1]), "value": canonical.dumps(now[1])})
    if kept:
        session.execute(unique_renames.insert(), kept)


def _upcast_value_conflicts(session: Session, entity: Entity, was: int) -> None:
    """A live unique conflict named by its field's older name takes the current one (the
    value it holds the hash of is unchanged by a rename); the settling that follows
    supersedes it by the conflict every node derives at the current schema."""
    c = conflicts.c
    rows = session.execute(sa.select(c.conflict_id, c.field).where(
        c.entity == entity.name, c.kind == UNIQUE_COLLISION, c.status.in_(LIVE))).all()
    for row in rows:
        now = field_now(entity, row.field, None, was) if row.field else None
        values: dict[str, Any] = {"field": now[0]} if now is not None else \
            {"status": SUPERSEDED}  # the field is gone, or no longer unique
        session.execute(conflicts.update().where(c.conflict_id == row.conflict_id)
                        .values(**values))


def _records(session: Session, entity: Entity) -> list[str]:
    """Ids of the records whose derived data may name fields: those with a record
    conflict, a unique rename, or a side in a live unique conflict."""
    c, s = conflicts.c, conflict_sides.c
    found = set(session.execute(sa.select(c.record_id).where(
        c.entity == entity.name, c.kind.in_(RECORD_KINDS), c.status != SUPERSEDED)).scalars())
    found.update(session.execute(sa.select(unique_renames.c.record_id).where(
        unique_renames.c.entity == entity.name)).scalars())
    found.update(session.execute(sa.select(s.record_id).join(
        conflicts, c.conflict_id == s.conflict_id).where(
        c.entity == entity.name, c.kind == UNIQUE_COLLISION, c.status.in_(LIVE))).scalars())
    return sorted(found)


def _store(session: Session, entity: Entity, exists: bool) -> None:
    if exists:
        session.execute(derived_versions.update().where(
            derived_versions.c.entity == entity.name).values(
            schema_version=entity.schema_version))
    else:
        session.execute(derived_versions.insert().values(
            entity=entity.name, schema_version=entity.schema_version))


BEFORE_LOCK.append(settle_upgrades)
