"""Real test databases: a SQLite file, and PostgreSQL and MariaDB databases created on
the local servers. No mocks. When a server is down the test is skipped locally, and
fails when HINDSIGHT_REQUIRE_BACKENDS=1 (as CI sets it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.audit.db import make_engine
from webapp.schema import metadata

BACKENDS = ("sqlite", "postgresql", "mariadb")
SERVER_URLS = {
    "postgresql": os.environ.get(
        "HINDSIGHT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get(
        "HINDSIGHT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def required() -> bool:
    return os.environ.get("HINDSIGHT_REQUIRE_BACKENDS") == "1"


def unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"database not available and HINDSIGHT_REQUIRE_BACKENDS=1: {reason}")
    pytest.skip(reason)


def database_url(backend: str, name: str, tmp_dir: Path) -> str:
    """A URL for an empty database called `name` (created, or emptied if it exists)."""
    suffix = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # Several people running the suite at once against the same servers: give each run
    # its own databases with HINDSIGHT_TEST_DB_TAG=<word>, or they drop each other's.
    tag = "".join(c for c in os.environ.get("HINDSIGHT_TEST_DB_TAG", "").lower()
                  if c.isascii() and c.isalnum())[:12]
    if tag:
        suffix = f"{tag}_{suffix}"
    name = f"hs_{name}_{suffix}".lower()
    if backend == "sqlite":
        path = tmp_dir / f"{name}.sqlite3"
        for extra in ("", "-wal", "-shm"):
            Path(str(path) + extra).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    try:
        return server_database(SERVER_URLS[backend], name)
    except sa.exc.OperationalError as exc:
        unavailable(f"{backend} server not reachable: {str(exc).splitlines()[0]}")
        raise  # unreachable: unavailable() skips or fails the test


def server_database(server_url: str, name: str, fresh: bool = True) -> str:
    """URL of database `name` on a PostgreSQL or MariaDB server: created if missing;
    dropped and made anew when `fresh` (the tests), kept when not (benchmark data)."""
    admin_url = sa.make_url(server_url)
    postgres = admin_url.get_backend_name() == "postgresql"
    admin = make_engine(admin_url.render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        quoted = f'"{name}"' if postgres else f"`{name}`"
        if postgres:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        if fresh:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}"))
        if not postgres:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {quoted} "
                                 "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
        elif not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).first():
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
    admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def fresh_engine(backend: str, name: str, tmp_dir: Path) -> sa.Engine:
    """An engine on a new empty database with the whole schema created."""
    engine = make_engine(database_url(backend, name, tmp_dir))
    metadata.create_all(engine)
    return engine


def empty_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
