"""IN lists of ids, the shape of most of replication's reads and deletes.

PostgreSQL (and, less so, MariaDB) spends milliseconds binding and planning 500 bound
parameters; the same list written into the statement costs a fifth. So on those
databases an id list is inlined, and only lists of tokens are: ULIDs and hex digests,
which a type refuses to render unless they are plain letters and digits. SQLite binds
lists faster than it parses them and keeps bound parameters.

Bulk inserts skip per-row parameter processing our plain values do not need: on SQLite
and MariaDB they go to the driver's executemany with the statement SQLAlchemy compiled
for the database; on PostgreSQL they are a COPY in the same transaction (per row, a
fifth of the client time and under half the wall time of executemany's pipeline)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

_TOKEN = re.compile(r"[0-9A-Za-z]{1,64}")
Compiled = tuple[str, tuple[str, ...] | None]  # SQL, and its parameters' order if positional


class Token(sa.types.TypeDecorator[str]):
    """A string that may be written into SQL because it is only letters and digits."""

    impl = sa.String
    cache_ok = True

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        if not isinstance(value, str) or not _TOKEN.fullmatch(value):
            raise ValueError(f"not an id or digest: {str(value)[:40]!r}")
        return value


def tokens(name: str, inline: bool) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=Token(), expanding=True, literal_execute=inline)


def inline(session: Session) -> bool:
    """Whether id lists are best inlined on this session's database."""
    return session.get_bind().dialect.name != "sqlite"


def bulk_insert(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys and only plain values (str, int, bool,
    None), through the driver's executemany."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, table, rows)
        return
    _executemany(connection, _insert_sql(table, tuple(rows[0]), connection.dialect), rows)


@cache
def _insert_sql(table: sa.Table, keys: tuple[str, ...], dialect: Any) -> Compiled:
    return _positional(table.insert().compile(dialect=dialect, column_keys=list(keys)))


def _positional(compiled: Any) -> Compiled:
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return compiled.string, order


def _executemany(connection: sa.Connection, compiled: Compiled,
                 rows: Sequence[dict[str, Any]]) -> None:
    sql, order = compiled
    if order is None:
        connection.exec_driver_sql(sql, list(rows))
    else:
        values = _getter(order)
        connection.exec_driver_sql(sql, [values(row) for row in rows])


def _copy(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    quote = connection.dialect.identifier_preparer.quote
    keys = tuple(rows[0])
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, keys))}) FROM STDIN"
    raw = connection.connection.driver_connection
    assert raw is not None
    values = _getter(keys)
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(values(row))


def _getter(keys: tuple[str, ...]) -> Any:
    """row -> tuple of its values for `keys`, at C speed (itemgetter of one key would
    return the bare value, not a tuple)."""
    return itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))


def bulk_update(session: Session, table: sa.Table, columns: tuple[str, ...],
                rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE `columns` of each row by its id, through the driver's executemany."""
    if not rows:
        return
    connection = session.connection()
    params = [{"b_" + k: row[k] for k in ("id", *columns)} for row in rows]
    _executemany(connection, _update_sql(table, columns, connection.dialect), params)


@cache
def _update_sql(table: sa.Table, columns: tuple[str, ...], dialect: Any) -> Compiled:
    statement = table.update().where(table.c.id == sa.bindparam("b_id")).values(
        {c: sa.bindparam("b_" + c) for c in columns})
    return _positional(statement.compile(dialect=dialect))
