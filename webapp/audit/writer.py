"""Flushes a transaction's buffered row writes, batched per table. Every update and
delete is conditional on the version the command saw (`WHERE id = ? AND version = ?`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, partial
from typing import Any

import sqlalchemy as sa

from . import canonical
from .entity import Registry
from .errors import StaleVersionError
from .prepared import Prepared, Rows, insert_rows

Check = Callable[[], None]  # raises StaleVersionError if a conditional write missed


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(record)
    row["vv"] = canonical.dumps(row["vv"])
    return row


def flush_writes(
    conn: sa.Connection,
    registry: Registry,
    inserts: Mapping[str, list[dict[str, Any]]],
    updates: Mapping[str, list[tuple[int, dict[str, Any]]]],
    deletes: Mapping[str, list[tuple[int, str]]],
) -> list[Check]:
    """Write the rows; return the checks of the conditional writes' row counts, to run
    before commit (in a pipeline the counts are only there once it syncs)."""
    checks: list[Check] = []
    for name, records in inserts.items():
        insert_rows(conn, registry.get(name).table, [_row(r) for r in records])
    for name, changes in updates.items():
        table = registry.get(name).table
        rows = []
        for expected, record in changes:
            params = {"b_" + k: v for k, v in _row(record).items()}
            params["b_expected"] = expected
            rows.append(params)
        expect = [(e, r["id"], r["version"]) for e, r in changes]
        checks += _write(conn, table, _update(table), rows, name, expect)
    for name, gone in deletes.items():
        table = registry.get(name).table
        rows = [{"b_id": record_id, "b_expected": expected} for expected, record_id in gone]
        checks += _write(conn, table, _delete(table), rows, name,
                         [(e, i, None) for e, i in gone])
    return checks


def _write(conn: sa.Connection, table: sa.Table, statement: Prepared,
           rows: list[dict[str, Any]], entity: str,
           expect: list[tuple[int, str, int | None]]) -> list[Check]:
    """Run a conditional statement for every row, as one executemany where the driver
    counts the rows it matched (PostgreSQL's psycopg then needs one round trip)."""
    if len(rows) > 1 and conn.dialect.supports_sane_multi_rowcount:
        result = statement.executemany(conn, rows)

        def check() -> None:
            if result.rowcount != len(rows):
                _find_stale(conn, table, entity, expect)
        return [check]
    return [partial(_check, statement.execute(conn, row), entity, record_id, expected)
            for row, (expected, record_id, _) in zip(rows, expect, strict=True)]


def _find_stale(conn: sa.Connection, table: sa.Table, entity: str,
                expect: list[tuple[int, str, int | None]]) -> None:
    """Name a record whose conditional write missed: updated rows hold their new version,
    deleted ones are gone."""
    ids = [record_id for _, record_id, _ in expect]
    query = sa.select(table.c.id, table.c.version).where(table.c.id.in_(ids))
    now = {row.id: row.version for row in conn.execute(query)}
    stale = next((x for x in expect if now.get(x[1]) != x[2]), expect[0])
    raise StaleVersionError(entity, stale[1], stale[0], None)


@cache
def _update(table: sa.Table) -> Prepared:
    columns = [c.name for c in table.columns if c.name != "id"]
    return Prepared(
        table.update()
        .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_expected"))
        .values({c: sa.bindparam("b_" + c) for c in columns})
    )


@cache
def _delete(table: sa.Table) -> Prepared:
    return Prepared(table.delete().where(
        table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_expected")))


def _check(result: Rows, entity: str, record_id: str, expected: int) -> None:
    # Unreachable while every writer holds the node lock; kept as the last line of
    # defence the SPEC asks for, should anything ever write around the lock.
    if result.rowcount != 1:
        raise StaleVersionError(entity, record_id, expected, None)
