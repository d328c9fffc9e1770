"""Engine set-up shared by the web app, the CLI and the tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session


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
# Session.execute (webapp/readends.py marks the web requests' sessions).
WROTE = "hindsight.wrote"


def end_reads(session: Session) -> None:
    """End a transaction that only read. With COMMIT, not ROLLBACK: the same to the
    database, but on PostgreSQL psycopg forgets every statement it prepared on a
    connection when that connection rolls back, so reads ended that way never run
    prepared (each statement is parsed and planned again). A transaction marked as one
    that wrote is rolled back: ending reads never keeps a write nobody committed."""
    if session.info.get(WROTE):
        session.rollback()
    else:
        session.commit()
