"""The SQL of a batch: rows, tombstones, heads and renames, a few statements per table.

Changed rows are deleted and inserted again rather than updated, so a unique value that
moves from one record to another within a batch never meets itself half-way."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity
from ..tables import tombstones
from .tables import replication_heads, unique_renames
from .unique import UniquePlan


def replace_rows(session: Session, entity: Entity, gone: Iterable[str],
                 rows: list[dict[str, Any]]) -> None:
    """Delete the rows with ids `gone`, then insert `rows` (vv already encoded)."""
    ids = sorted(set(gone))
    for start in range(0, len(ids), 500):
        session.execute(_delete_rows(entity.table), {"ids": ids[start:start + 500]})
    if rows:
        session.execute(entity.table.insert(), rows)


def rows_of(session: Session, entity: Entity, ids: Iterable[str]) -> list[dict[str, Any]]:
    query = sa.select(entity.table).where(entity.table.c.id.in_(sorted(set(ids))))
    return [dict(r._mapping) for r in session.execute(query)]


def replace_tombstones(session: Session, entity: Entity, gone: Iterable[str],
                       rows: list[dict[str, Any]]) -> None:
    ids = sorted(set(gone))
    for start in range(0, len(ids), 500):
        session.execute(_DELETE_TOMBS, {"entity": entity.name, "ids": ids[start:start + 500]})
    if rows:
        session.execute(tombstones.insert(), rows)


def replace_heads(session: Session, entity: Entity, gone: Iterable[str],
                  rows: list[dict[str, Any]]) -> None:
    ids = sorted(set(gone))
    for start in range(0, len(ids), 500):
        session.execute(_DELETE_HEADS, {"entity": entity.name, "ids": ids[start:start + 500]})
    if rows:
        session.execute(replication_heads.insert(), rows)


def write_renames(session: Session, entity: Entity, plan: UniquePlan) -> None:
    if plan.unrenamed:
        session.execute(unique_renames.delete().where(
            unique_renames.c.entity == entity.name,
            unique_renames.c.field == sa.bindparam("b_field"),
            unique_renames.c.record_id == sa.bindparam("b_id")),
            [{"b_field": f, "b_id": r} for f, r in plan.unrenamed])
    if plan.renames:
        session.execute(unique_renames.insert(), plan.renames)


def other_rows(session: Session, entity: Entity, plan: UniquePlan) -> list[dict[str, Any]]:
    """The rows of records other than the changed ones, with their new stored values."""
    if not plan.others:
        return []
    rows = rows_of(session, entity, plan.others)
    for row in rows:
        row.update(plan.others[row["id"]])
    return rows


def encode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "vv": canonical.dumps(row["vv"])}


@cache
def _delete_rows(table: sa.Table) -> sa.Delete:
    return table.delete().where(table.c.id.in_(sa.bindparam("ids", expanding=True)))


def _delete_in_entity(table: sa.Table) -> sa.Delete:
    return table.delete().where(table.c.entity == sa.bindparam("entity"),
                                table.c.record_id.in_(sa.bindparam("ids", expanding=True)))


_DELETE_TOMBS = _delete_in_entity(tombstones)
_DELETE_HEADS = _delete_in_entity(replication_heads)
