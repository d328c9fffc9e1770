"""The SQL of a batch: rows, tombstones, heads and renames, a few statements per table.

Changed rows are deleted and inserted again rather than updated, so a unique value that
moves from one record to another within a batch never meets itself half-way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity
from ..idlists import list_style, one_of
from ..prepared import Prepared, insert_rows
from ..transaction import chunks
from .tables import unique_renames
from .unique import UniquePlan


def replace_rows(session: Session, entity: Entity, gone: Iterable[str],
                 rows: list[dict[str, Any]]) -> None:
    """Delete the rows with ids `gone`, then insert `rows` (vv already encoded)."""
    for chunk in chunks(gone):
        session.execute(_delete_rows(entity.table, list_style(session)), {"ids": chunk})
    insert_rows(session, entity.table, rows)


def replace_entries(session: Session, table: sa.Table, entity: Entity, gone: Iterable[str],
                    rows: list[dict[str, Any]]) -> None:
    """The same for a table keyed by (entity, record_id): tombstones, heads."""
    for chunk in chunks(gone):
        session.execute(_delete_in_entity(table, list_style(session)),
                        {"entity": entity.name, "ids": chunk})
    insert_rows(session, table, rows)


def edit_rows(session: Session, entity: Entity, rows: list[dict[str, Any]]) -> None:
    """Update rows in place (their indexed values do not change: no index entry moves,
    fewer pages written than a delete and an insert)."""
    if rows:
        columns = tuple(k for k in rows[0] if k != "id" and k not in indexed(entity))
        bulk_update(session, entity.table, columns, rows)


def indexed(entity: Entity) -> set[str]:
    """The fields an index holds (unique values, references)."""
    return {*entity.unique_fields, *entity.refs}


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
    query = sa.select(entity.table).where(entity.table.c.id.in_(sorted(plan.others)))
    rows = [dict(r._mapping) for r in session.execute(query)]
    for row in rows:
        row.update(plan.others[row["id"]])
    return rows


def encode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "vv": canonical.dumps(row["vv"])}


@cache
def _delete_rows(table: sa.Table, style: str) -> sa.Delete:
    return table.delete().where(one_of(table.c.id, "ids", style))


@cache
def _delete_in_entity(table: sa.Table, style: str) -> sa.Delete:
    return table.delete().where(table.c.entity == sa.bindparam("entity"),
                                one_of(table.c.record_id, "ids", style))


def bulk_update(session: Session, table: sa.Table, columns: tuple[str, ...],
                rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE `columns` of each row by its id, through the driver's executemany."""
    if rows:
        _update_by_id(table, columns).executemany(
            session, [{"b_" + k: row[k] for k in ("id", *columns)} for row in rows])


@cache
def _update_by_id(table: sa.Table, columns: tuple[str, ...]) -> Prepared:
    return Prepared(table.update().where(table.c.id == sa.bindparam("b_id")).values(
        {c: sa.bindparam("b_" + c) for c in columns}))
