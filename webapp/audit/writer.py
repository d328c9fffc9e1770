"""Flushes a transaction's buffered row writes, batched per table. Every update and
delete is conditional on the version the command saw (`WHERE id = ? AND version = ?`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import canonical
from .entity import Registry
from .errors import StaleVersionError


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(record)
    row["vv"] = canonical.dumps(row["vv"])
    return row


def flush_writes(
    session: Session,
    registry: Registry,
    inserts: Mapping[str, list[dict[str, Any]]],
    updates: Mapping[str, list[tuple[int, dict[str, Any]]]],
    deletes: Mapping[str, list[tuple[int, str]]],
) -> None:
    for name, records in inserts.items():
        session.execute(registry.get(name).table.insert(), [_row(r) for r in records])
    for name, changes in updates.items():
        table = registry.get(name).table
        columns = [c.name for c in table.columns if c.name != "id"]
        statement = (
            table.update()
            .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_expected"))
            .values({c: sa.bindparam("b_" + c) for c in columns})
        )
        for expected, record in changes:
            params = {"b_" + k: v for k, v in _row(record).items()}
            params["b_expected"] = expected
            _check(session.execute(statement, params).rowcount, name, record["id"], expected)
    for name, gone in deletes.items():
        table = registry.get(name).table
        statement = table.delete().where(
            table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_expected"))
        for expected, record_id in gone:
            result = session.execute(statement, {"b_id": record_id, "b_expected": expected})
            _check(result.rowcount, name, record_id, expected)


def _check(rowcount: int, entity: str, record_id: str, expected: int) -> None:
    # Unreachable while every writer holds the node lock; kept as the last line of
    # defence the SPEC asks for, should anything ever write around the lock.
    if rowcount != 1:
        raise StaleVersionError(entity, record_id, expected, None)
