"""A domain's own migrations, run as its team would (`flask db upgrade -d FOLDER`), on
SQLite, PostgreSQL and MariaDB: tables made, a field added, one renamed (schema version
bump and an upcaster), one removed, with records written before and after each step.
After every step the migrations match the declaration (`flask db check -d`), `flask
audit verify` finds every record equal to its events, and old events read as the
current schema. Each step runs in `flask` processes of its own, as an admin would."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tests.support.databases import database_url
from webapp.audit.db import make_engine
from webapp.domain_schema import VERSION_TABLE

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "support" / "domains" / "evolving_migrations"

# Run in the app: {"op": ...} in, the records' and the events' states out.
SCRIPT = """
import json, sys
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from wsgi import app
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.records import get_record, list_records
from webapp.audit.store import record_events
from webapp.domain import registry
from webapp.domain_schema import domain_include_object
from webapp.extensions import db
from webapp.schema import metadata
from webapp.runtime import auditor
part = registry.get("part")
with app.app_context():
    s = db.session()
    for op in json.loads(sys.argv[1]):
        if op[0] == "create":
            auditor().execute(s, CreateRecord("part", op[1]))
        else:
            [found] = [r for r in list_records(s, part).records if r["code"] == op[1]]
            auditor().execute(s, UpdateRecord("part", found["id"], found["version"], op[2]))
    with db.engine.connect() as conn:  # what autogenerate would still change: nothing
        found = compare_metadata(MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": domain_include_object()}), metadata)
    out = {"_differences": repr(found) if found else ""}
    for r in list_records(s, part).records:
        events = record_events(s, "part", r["id"], registry=registry).events
        out[r["code"]] = {"row": {k: r[k] for k in part.fields},
                          "states": [e.post_state for e in events],
                          "versions": sorted({e.schema_version for e in events})}
    print(json.dumps(out))
"""


class Deployment:
    def __init__(self, url: str, tmp: Path) -> None:
        self.env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
                    "HINDSIGHT_SECRET_KEY": secrets.token_hex(16),
                    "HINDSIGHT_DOMAIN": "tests.support.domains.evolving",
                    "HINDSIGHT_NODE_KEY_FILE": str(tmp / "node_key.pem"),
                    "PYTHONPATH": str(ROOT)}

    def run(self, step: int, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(args, cwd=ROOT, env={**self.env, "EVOLVING_STEP": str(step)},
                              capture_output=True, text=True, timeout=300)
        assert not check or done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
        return done

    def flask(self, step: int, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(step, sys.executable, "-m", "flask", "--app", "wsgi", *args, check=check)

    def step(self, step: int, *ops: list[object]) -> dict[str, dict[str, object]]:
        """Migrate to `step`, check it, run `ops`; the parts as the app then reads them."""
        self.flask(step, "db", "upgrade", "-d", str(FOLDER), f"000{step}")
        out = json.loads(self.run(step, sys.executable, "-c", SCRIPT, json.dumps(ops))
                         .stdout.splitlines()[-1])
        assert out.pop("_differences") == ""  # the migrations make what is declared
        verified = self.flask(step, "audit", "verify", check=False)
        assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
        return out  # type: ignore[no-any-return]


def test_a_domain_evolves_with_its_records(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, "evolving", tmp_path)
    app = Deployment(url, tmp_path)
    app.flask(1, "db", "upgrade")  # Hindsight's own tables first
    app.flask(1, "node", "init", "--name", "evolving")

    one = app.step(1, ["create", {"code": "a", "price": "1.5"}],
                   ["update", "a", {"price": "2.25"}])
    assert one["a"]["row"] == {"code": "a", "price": "2.25"}

    two = app.step(2, ["create", {"code": "b", "price": "7", "note": "new field"}],
                   ["update", "a", {"note": "added later"}])
    assert two["b"]["row"] == {"code": "b", "price": "7.00", "note": "new field"}
    assert two["a"]["row"] == {"code": "a", "price": "2.25", "note": "added later"}
    # Written before the field existed, read with it (empty): upcast to schema 2.
    assert [s["note"] for s in reversed(two["a"]["states"])] == [None, None, "added later"]

    three = app.step(3, ["update", "a", {"unit_price": "3"}])
    assert three["a"]["row"] == {"code": "a", "unit_price": "3.00", "note": "added later"}
    assert [s["unit_price"] for s in reversed(three["a"]["states"])] == [
        "1.50", "2.25", "2.25", "3.00"]  # renamed in old events too, values kept
    assert all("price" not in s for s in three["a"]["states"])

    four = app.step(4, ["create", {"code": "c", "unit_price": "0.01"}])
    assert four["c"]["row"] == {"code": "c", "unit_price": "0.01"}
    assert four["b"]["row"] == {"code": "b", "unit_price": "7.00"}
    assert all(set(s) == {"id", "code", "unit_price"} for s in four["a"]["states"])
    assert four["a"]["versions"] == [4]  # read as the current schema
    app.flask(4, "db", "check", "-d", str(FOLDER))  # the documented check, at the head

    engine = make_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert {"alembic_version", VERSION_TABLE, "evolving_parts"} <= tables
        with engine.connect() as conn:  # each history in its own version table
            assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() \
                == "0004"
            hindsight_head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
                == hindsight_head
            stored = conn.execute(sa.text("SELECT DISTINCT schema_version FROM change_events "
                                          "WHERE entity = 'part'")).scalars()
            assert sorted(stored) == [1, 2, 3, 4]  # each event kept as it was written
    finally:
        engine.dispose()
