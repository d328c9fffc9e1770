"""Engine set-up shared by the web app, the CLI and the tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction


def engine_options(url: str) -> dict[str, Any]:
    """create_engine options per backend: driver settings only, never different SQL."""
    backend = sa.make_url(url).get_backend_name()
    if backend == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_recycle": 3600}


def normalise_url(url: str) -> str:
    """Fill in the drivers we ship and MariaDB's utf8mb4 charset."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+pymysql")
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def configure_engine(engine: sa.Engine) -> sa.Engine:
    """SQLite: WAL so readers never block the writer, FULL sync so a committed audit
    event survives a power cut, a busy timeout so worker processes queue, and a
    Unicode lower()."""
    if engine.dialect.name == "sqlite" and not getattr(engine, "_hindsight_ready", False):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()
            # SQLite's own lower() folds ASCII only; searches must ignore case the way
            # PostgreSQL and MariaDB do ("équipe" finds "Équipe").
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        engine._hindsight_ready = True  # type: ignore[attr-defined]
    return engine


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, **options: Any) -> sa.Engine:
    url = normalise_url(url)
    return configure_engine(sa.create_engine(url, **{**engine_options(url), **options}))


# In Session.info while its transaction ran a statement other than a SELECT through
# Session.execute (an INSERT, UPDATE or DELETE, or any text SQL): see watch_writes.
WROTE = "hindsight.wrote"


def watch_writes(target: Any) -> None:
    """Mark the transactions of `target`'s sessions (a Session, its class, a
    sessionmaker or a scoped_session) that write, for end_reads; once per target.
    Statements on the session's connection or the driver's cursor are not seen: the
    core's writes, which run that way, run in a unit of work, which ends its own
    transaction."""
    if not event.contains(target, "do_orm_execute", _note_write):
        event.listen(target, "do_orm_execute", _note_write)
        event.listen(target, "after_transaction_end", _forget_write)


def _note_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


def _forget_write(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: the next starts clean
        session.info.pop(WROTE, None)


def end_reads(session: Session) -> None:
    """End a transaction that only read. With COMMIT, not ROLLBACK: the same to the
    database, but on PostgreSQL psycopg forgets every statement it prepared on a
    connection when that connection rolls back, so reads ended that way never run
    prepared (each statement is parsed and planned again). A transaction that wrote
    (marked, see watch_writes) or holds unflushed changes is rolled back: ending reads
    never keeps a write nobody committed."""
    if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
        session.rollback()
    else:
        session.commit()
