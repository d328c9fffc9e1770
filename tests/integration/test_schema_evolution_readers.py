"""Events stored by older schema versions of an entity, read by every reader once the
app serves the newest: the timeline page, an event's page and its diff, a record's
as-of view, revert, a deleted record's page, export (CSV and JSON Lines), `flask audit
snapshot` and `flask audit verify`; on SQLite and PostgreSQL.

The fixture log is written by the evolving domain itself (tests/support/domains/
evolving.py), one step at a time, as a team's app would have written it: part v1
(code, price), v2 adds note, v3 renames price to unit_price, v4 removes note. Each
event stays as it was written; every reader shows it at v4."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_domain_migrations import FOLDER, Deployment
from tests.support.databases import database_url

pytestmark = pytest.mark.slow

# Run in the app at a given step: [op, ...] in, {code: record id} and event ids out.
WRITE = """
import json, sys
from wsgi import app
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.records import get_record, list_records
from webapp.domain import registry
from webapp.extensions import db
from webapp.runtime import auditor
part = registry.get("part")
out = {}
with app.app_context():
    s = db.session()
    for op in json.loads(sys.argv[1]):
        if op[0] == "create":
            result = auditor().execute(s, CreateRecord("part", op[1]))
        else:
            [found] = [r for r in list_records(s, part).records if r["code"] == op[1]]
            result = auditor().execute(s, UpdateRecord("part", found["id"], found["version"],
                                                       op[2]) if op[0] == "update" else
                                       DeleteRecord("part", found["id"], found["version"]))
        out.setdefault(op[1] if op[0] != "create" else op[1]["code"], []).append(
            [result.event.record_id, result.event.event_id])
print(json.dumps(out))
"""

# Run in the app at v4: log in as an admin through the login form, then read pages and
# revert; what each answered, out.
READ = """
import json, secrets, sys
from webapp import create_app
from webapp.audit.commands import CreateRecord
from webapp.audit.context import AuditContext, audit_context
from webapp.audit.records import get_record
from webapp.domain import registry
from webapp.extensions import db
from webapp.runtime import auditor
from tests.web.helpers import csrf_from
ids = json.loads(sys.argv[1])
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": True})
password = secrets.token_urlsafe(12)
with app.app_context(), audit_context(AuditContext(user_id="test")):
    auditor().execute(db.session(), CreateRecord("user", {
        "username": "evolver", "email": "evolver@example.org", "role": "admin",
        "active": True, "password": password, "full_name": "Evolver"}))
client = app.test_client()
token = csrf_from(client.get("/login").get_data(as_text=True))
login = client.post("/login", data={"username": "evolver", "password": password,
                                    "csrf_token": token})
assert login.status_code == 302, login.status_code
a, d = ids["a"], ids["d"]
def page(url, **kw):
    response = client.get(url, **kw)
    return {"status": response.status_code, "html": response.get_data(as_text=True)}
out = {
    "timeline": page("/timeline?entity=part"),
    "event": page(f"/events/{a['events'][1]}"),
    "diff": page(f"/events/{a['events'][1]}/diff", headers={"HX-Request": "true"}),
    "as_of": page(f"/e/part/{a['id']}?at={a['events'][1]}"),
    "deleted": page(f"/e/part/{d['id']}"),
}
def section(html, anchor):  # the page's section that starts at `anchor`
    return html.split(anchor, 1)[1].split("</section>", 1)[0]
out["deleted_state"] = section(out["deleted"]["html"], 'id="current-heading"')
out["as_of_state"] = section(out["as_of"]["html"], 'id="state-at"')
with app.app_context():
    version = get_record(db.session(), registry.get("part"), a["id"])["version"]
token = csrf_from(out["as_of"]["html"])
revert = client.post(f"/e/part/{a['id']}/revert/{a['events'][0]}",
                     data={"csrf_token": token, "expected_version": str(version)})
out["revert"] = {"status": revert.status_code}
with app.app_context():
    row = get_record(db.session(), registry.get("part"), a["id"])
    out["revert"]["row"] = {k: row[k] for k in ("code", "unit_price")}
print(json.dumps(out))
"""


def _ops(app: Deployment, step: int, *ops: list[Any]) -> dict[str, list[list[str]]]:
    app.flask(step, "db", "upgrade", "-d", str(FOLDER), f"000{step}")
    done = app.run(step, sys.executable, "-c", WRITE, json.dumps(ops))
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgresql"])
def evolved(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Deployment, dict[str, Any]]:
    """A node whose log holds part events of schema versions 1, 2 and 3, serving v4."""
    app = Deployment(database_url(str(request.param), "evoread", tmp_path), tmp_path)
    app.env["HINDSIGHT_SNAPSHOT_DIR"] = str(tmp_path / "snapshots")
    app.flask(1, "db", "upgrade")
    app.flask(1, "node", "init", "--name", "evolved")
    written: dict[str, list[list[str]]] = {}
    for step, ops in ((1, [["create", {"code": "a", "price": "1.5"}],
                           ["update", "a", {"price": "2.25"}],
                           ["create", {"code": "d", "price": "9"}]]),
                      (2, [["update", "a", {"note": "added later"}],
                           ["update", "d", {"note": "going"}], ["delete", "d"]]),
                      (3, [["update", "a", {"unit_price": "3"}]])):
        for code, events in _ops(app, step, *ops).items():
            written.setdefault(code, []).extend(events)
    app.flask(4, "db", "upgrade", "-d", str(FOLDER), "0004")
    ids = {code: {"id": events[0][0], "events": [e for _, e in events]}
           for code, events in written.items()}
    return app, ids


def test_old_events_read_as_the_current_schema_everywhere(
        evolved: tuple[Deployment, dict[str, Any]]) -> None:
    app, ids = evolved
    a, d = ids["a"], ids["d"]
    seen = json.loads(app.run(4, sys.executable, "-c", READ, json.dumps(ids))
                      .stdout.splitlines()[-1])
    for name in ("timeline", "event", "diff", "as_of", "deleted"):
        assert seen[name]["status"] == 200, (name, seen[name]["html"][-2000:])
        assert "note" not in seen[name]["html"].lower().replace("footnote", ""), name
    # The v1 update (price 1.50 -> 2.25) shows as a change of the renamed field.
    for name in ("event", "diff", "timeline"):
        assert "1.50" in seen[name]["html"] and "2.25" in seen[name]["html"], name
    # The record as that v1 event left it, and as a record deleted at v2 last was (its
    # tombstone's state), both read at v4.
    for name, value in (("as_of_state", "2.25"), ("deleted_state", "9.00")):
        assert value in seen[name] and "Price" in seen[name], seen[name]
    # Revert to the v1 create: the upcast state, validated by today's params.
    assert seen["revert"] == {"status": 303, "row": {"code": "a", "unit_price": "1.50"}}

    jsonl = app.flask(4, "audit", "export", "--format", "jsonl", "--entity", "part",
                      "--quiet").stdout
    exported = [json.loads(line) for line in jsonl.splitlines() if line]
    by_id = {e["event_id"]: e for e in exported}
    assert set(a["events"]) | set(d["events"]) <= set(by_id)
    for event in exported:
        assert event["schema_version"] == 4
        for doc in ("pre_state", "post_state"):
            assert event[doc] is None or set(event[doc]) == {"id", "code", "unit_price"}
        assert set(event["params"]) <= {"code", "unit_price"}
    first = by_id[a["events"][1]]
    assert (first["params"], first["pre_state"]["unit_price"]) == ({"unit_price": "2.25"},
                                                                   "1.50")
    assert by_id[d["events"][-1]]["pre_state"] == {"id": d["id"], "code": "d",
                                                   "unit_price": "9.00"}
    table = list(csv.DictReader(io.StringIO(app.flask(
        4, "audit", "export", "--format", "csv", "--entity", "part", "--quiet").stdout)))
    row = next(r for r in table if r["event_id"] == a["events"][1])
    assert json.loads(row["params"]) == {"unit_price": "2.25"}
    assert "price\"" not in "".join(r["pre_state"] + r["post_state"]
                                    for r in table).replace("unit_price\"", "")

    app.flask(4, "audit", "snapshot", "--quiet")
    [path] = (Path(app.env["HINDSIGHT_SNAPSHOT_DIR"])).glob("*.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["entities"]["part"] == 4
    [part] = [x for x in lines if x["kind"] == "record" and x.get("entity") == "part"]
    assert part["state"] == {"id": a["id"], "code": "a", "unit_price": "1.50"}
    [tomb] = [x for x in lines if x["kind"] == "tombstone" and x["entity"] == "part"]
    assert (tomb["last_state"], tomb["schema_version"]) == (
        {"id": d["id"], "code": "d", "unit_price": "9.00"}, 4)

    verified = app.flask(4, "audit", "verify", check=False)
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
