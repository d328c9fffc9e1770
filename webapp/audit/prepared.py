"""Hot statements, built with SQLAlchemy once and run on the driver's own cursor.

An audited write runs five to seven small statements. Through `Session.execute` each
costs ~50 µs of Python on top of SQLite's ~5 µs: more than the audit's own work. A
`Prepared` statement is compiled once per dialect (so its SQL is still SQLAlchemy's,
never written per database) and then handed to the DBAPI cursor of the session's
connection, inside the session's transaction, with the column types' bind and result
processors applied as SQLAlchemy would.

When a listener is on the engine's cursor events (query logging, the tests' injected
failures) the statement goes through `Connection.exec_driver_sql` instead, so every
listener still sees it; driver errors are raised as SQLAlchemy's own exception classes
either way."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any]
# Where to run: a session (its transaction's connection), or that connection itself,
# which a caller running many statements fetches once.
Db = Session | sa.Connection


class Rows(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...


Args = Callable[[dict[str, Any]], Any]  # a row's params -> what the driver takes


@dataclass(frozen=True)
class _Compiled:
    sql: str
    args: Args
    results: tuple[Processor | None, ...]


def _args(keys: tuple[str, ...], positional: bool, fixed: dict[str, Any],
          binds: tuple[tuple[str, Processor], ...]) -> Args:
    """How a row's params become the driver's: `keys` are the bind names (in the
    driver's order when positional), `fixed` the values bound at build time (e.g.
    `id == 1`), `binds` the type processors. Plain statements (most) take the rows as
    they come: a dict as is, or its values picked in C."""
    if not fixed and not binds:
        return _pick(keys) if positional else (lambda params: params)

    def processed(params: dict[str, Any]) -> Any:
        values = {**fixed, **params}
        for key, process in binds:
            values[key] = process(values[key])
        return tuple(values[k] for k in keys) if positional else values
    return processed


def _pick(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """row -> tuple of its values for `keys` (itemgetter of one key would return the
    bare value, not a tuple)."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda row: tuple(row[k] for k in keys)


class Prepared:
    """One statement, compiled once per dialect; run with `execute` / `executemany`."""

    def __init__(self, statement: sa.Executable, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = None if keys is None else list(keys)  # an INSERT's columns, if not all
        self.names = tuple(c.key for c in getattr(statement, "exported_columns", ()))
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, db: Db, params: dict[str, Any] | None = None) -> Rows:
        return self._run(connection(db), params or {}, many=False)

    def executemany(self, db: Db, rows: Sequence[dict[str, Any]]) -> Rows:
        return self._run(connection(db), rows, many=True)

    def rows(self, db: Db, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """A SELECT's (or RETURNING's) rows, with the result types applied."""
        conn = connection(db)
        return self.fetched(conn, self._run(conn, params or {}, many=False))

    def fetched(self, conn: sa.Connection, result: Rows) -> list[tuple[Any, ...]]:
        """The rows of this statement's `result`, from execute(), with types applied."""
        compiled = self._compile(conn.dialect)
        results = compiled.results
        with _as_sqlalchemy_errors(conn, compiled.sql):  # a pipeline reports them here
            rows = result.fetchall()
        if not any(results):
            return [tuple(r) for r in rows]
        return [tuple(v if p is None else p(v) for p, v in zip(results, r, strict=True))
                for r in rows]

    def dicts(self, db: Db, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """rows() as {column name: value}."""
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows(db, params)]

    def _run(self, conn: sa.Connection, params: Any, many: bool) -> Rows:
        compiled = self._compile(conn.dialect)
        args = [compiled.args(p) for p in params] if many else compiled.args(params)
        if _listened(conn):
            return conn.exec_driver_sql(compiled.sql, args)
        cursor = conn.connection.cursor()
        with _as_sqlalchemy_errors(conn, compiled.sql, args):
            if many:
                cursor.executemany(compiled.sql, args)
            else:
                cursor.execute(compiled.sql, args)
        return cursor

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect,
                                                               self.keys)
        return compiled


def _compile(statement: sa.Executable, dialect: sa.Dialect,
             keys: list[str] | None) -> _Compiled:
    c: Any = statement.compile(dialect=dialect, column_keys=keys)  # type: ignore[attr-defined]
    if any(b.expanding for b in c.binds.values()):
        raise ValueError("a prepared statement cannot hold an expanding IN list")
    escaped = getattr(c, "escaped_bind_names", None) or {}
    if escaped:
        raise ValueError(f"bind names need escaping: {sorted(escaped)}")
    order = tuple(c.positiontup) if c.positional else tuple(c.binds)
    fixed = {k: b.value for k, b in c.binds.items() if not b.required and b.value is not None}
    binds = []
    for key, bind in c.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((key, process))
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in getattr(statement, "exported_columns", ()))  # SELECT, RETURNING
    return _Compiled(c.string, _args(order, bool(c.positional), fixed, tuple(binds)), results)


def connection(db: Db) -> sa.Connection:
    return db if isinstance(db, sa.Connection) else db.connection()


def _listened(conn: sa.Connection) -> bool:
    dispatch = conn.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


# Up to this many statements or rows a transaction is "small": its writes are pipelined
# and its inserts are INSERTs; above it, PostgreSQL inserts take a COPY (which a pipeline
# cannot hold).
SMALL = 20


class Pipeline:
    """Statements run in the block go to the server together where the driver can
    (psycopg's pipeline mode): one round trip where each would take its own. Rows are
    there when fetched, row counts once the pipeline syncs. Only prepared statements
    may run in it: SQLAlchemy's own execute reads results at once, so call end() before
    one. Elsewhere, when not `enabled`, or under cursor listeners (which expect each
    statement done when it returns), statements simply run one by one."""

    def __init__(self, conn: sa.Connection, enabled: bool = True) -> None:
        raw: Any = conn.connection.driver_connection
        pipelines = enabled and hasattr(raw, "pipeline") and not _listened(conn)
        self._conn = conn
        self._block: Any = raw.pipeline() if pipelines else None

    @property
    def active(self) -> bool:
        return self._block is not None

    def __enter__(self) -> Pipeline:
        if self._block is not None:
            self._block.__enter__()
        return self

    def queue_commit(self, session: Session) -> bool:
        """Queue `session`'s COMMIT behind the statements in the pipeline, so that they
        all go in the one round trip that ends it; the session's commit, after, finds the
        transaction over and sends nothing. (psycopg's own commit() would sync at once,
        and the pool's reset and the pipeline's end would then cost a round trip each.)
        A COMMIT that fails is raised when the pipeline ends. False, and nothing queued,
        without a pipeline or where something listens for the commit (the session's
        before_commit, the engine's commit event): it must run first, and may stop it."""
        if self._block is None or session.dispatch.before_commit or self._conn.dispatch.commit:
            return False
        self._conn.connection.driver_connection.cursor().execute("COMMIT")  # type: ignore[union-attr]
        return True

    def end(self) -> None:
        """Sync and leave the pipeline: what follows runs statement by statement."""
        self.__exit__(None, None, None)

    def __exit__(self, *exc: Any) -> None:
        block, self._block = self._block, None
        if block is None:
            return
        with _as_sqlalchemy_errors(self._conn, "(pipeline sync)"):
            block.__exit__(*exc)


def insert_rows(db: Db, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys. On PostgreSQL more than SMALL rows go in
    as one COPY in the transaction (per row, a fifth of the client time and under half
    the wall time of executemany's pipeline); otherwise a prepared INSERT."""
    if not rows:
        return
    keys = tuple(rows[0])
    conn = connection(db)
    if len(rows) > SMALL and conn.dialect.name == "postgresql" and not _listened(conn):
        _copy(conn, table, keys, rows)
    else:
        _insert(table, keys).executemany(conn, rows)


@cache
def _insert(table: sa.Table, keys: tuple[str, ...]) -> Prepared:
    return Prepared(table.insert(), keys)


def _copy(conn: sa.Connection, table: sa.Table, keys: tuple[str, ...],
          rows: Sequence[dict[str, Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, keys))}) FROM STDIN"
    values = _pick(keys)
    raw: Any = conn.connection.driver_connection
    with _as_sqlalchemy_errors(conn, statement), raw.cursor() as cursor, \
            cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(values(row))


@contextmanager
def _as_sqlalchemy_errors(conn: sa.Connection, sql: str, args: Any = None) -> Iterator[None]:
    """Driver errors raised as the SQLAlchemy classes callers catch (IntegrityError...)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(sql, args, error, dbapi.Error,
                                         dialect=conn.dialect) from error
