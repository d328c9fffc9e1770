"""The migrations build the schema the code declares, on every database, and undo cleanly.

Every other test builds its schema with metadata.create_all; this is where the Alembic
migrations that `make run` and a deployment's `flask db upgrade` apply are checked. They
run in a `flask` process of their own, as an admin would run them (Alembic's env.py also
reconfigures logging, which must not leak into the test process)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.support.databases import database_url
from webapp.audit.db import make_engine
from webapp.schema import metadata

ROOT = Path(__file__).resolve().parents[2]


def flask_db(url: str, *args: str) -> None:
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(16)}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def differences(engine: sa.Engine) -> list[Any]:
    """What Alembic's autogenerate would still change: nothing, if the migrations match."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    url = database_url(backend, "migrations", tmp_path)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def test_upgrade_builds_every_declared_table_index_and_type(empty_database):
    url, engine = empty_database
    flask_db(url, "upgrade")
    assert table_names(engine) == set(metadata.tables) | {"alembic_version"}
    assert differences(engine) == []


def test_downgrade_to_base_undoes_everything_and_upgrade_builds_it_again(empty_database):
    url, engine = empty_database
    flask_db(url, "upgrade")
    flask_db(url, "downgrade", "base")
    assert table_names(engine) <= {"alembic_version"}
    flask_db(url, "upgrade")
    assert differences(engine) == []


def test_downgrade_below_compaction_refuses_while_bases_exist(empty_database):
    """The record bases left by a compaction (or a bootstrap) are the only copy of the
    history before them: downgrading past 0015 would drop them, so it is refused and
    the tables stay."""
    url, engine = empty_database
    flask_db(url, "upgrade")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO compaction_runs (run_id, snapshot_id, snapshot_seq, through_seq, "
            "events_removed, done_ms) VALUES ('r', 's', 1, 1, 1, 1)"))
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(16)}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "downgrade",
                           "0014"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert "compaction_runs is not empty" in done.stderr, done.stderr[-2000:]
    assert {"compaction_runs", "compacted_records"} <= table_names(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM compaction_runs"))
    flask_db(url, "downgrade", "0014")
    assert "compaction_runs" not in table_names(engine)
