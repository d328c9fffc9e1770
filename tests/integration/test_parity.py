"""The same commands yield equivalent change events on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.support.databases import BACKENDS, fresh_engine
from webapp.audit import AuditContext, CreateRecord, DeleteRecord, Entity, Registry, UpdateRecord
from webapp.audit.errors import StaleVersionError
from webapp.audit.hlc import HybridClock
from webapp.audit.ids import new_ulid
from webapp.audit.node import init_node
from webapp.audit.params import Text
from webapp.audit.records import list_records
from webapp.audit.service import Auditor
from webapp.audit.store import events_after
from webapp.audit.tables import metadata
from webapp.domain import projects, settings, teams, users

# An entity with a field longer than MariaDB's 64 KiB TEXT. Its table is kept off the
# shared metadata (so migrations and other tests never see it) and created here.
notes = Entity(name="note", table_name="parity_notes", fields={
    "title": Text(max_length=200), "body": Text(max_length=300_000, multiline=True,
                                                required=False)})
metadata.remove(notes.table)
registry = Registry()
for declared in (users, teams, projects, settings, notes):
    registry.register(declared)

IDS = {name: new_ulid() for name in ("red", "blue", "alice", "apollo", "smtp", "note")}
LONG = ("🚀 Zoë σ 東京 مرحبا\n" * 6_000).strip()  # ~150 KB of UTF-8, 4-byte characters too
CTX = AuditContext(user_id="admin-1", request_id="req-42", client_ip="2001:db8::7",
                   session_id="sess-9", tenant_id="acme").with_traceparent(
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


def run_sequence(session: Session, auditor: Auditor) -> dict[str, Any]:
    """Every kind of command, with unicode, long text, secrets, no-ops, bulk and errors."""
    ex = auditor.execute
    ex(session, CreateRecord("team", {"slug": "Red", "name": "Équipe Rouge 🚀",
                                      "description": "Zoe\u0308\r\nline two\t"}, IDS["red"]))
    ex(session, CreateRecord("team", {"slug": "blue", "name": "Blue"}, IDS["blue"]))
    ex(session, CreateRecord("user", {"username": "alice", "email": "Alice@Example.com",
                                      "role": "viewer", "password": "correct horse battery"},
                             IDS["alice"], idempotency_key="form:alice"))
    ex(session, CreateRecord("project", {"name": "Apollo", "team_id": IDS["red"].lower(),
                                         "status": "planned"}, IDS["apollo"]))
    ex(session, UpdateRecord("project", IDS["apollo"], 1, {
        "status": "active", "team_id": IDS["blue"], "description": "שלום\nworld"}))
    ex(session, UpdateRecord("user", IDS["alice"], 1, {"role": "admin", "active": "on",
                                                       "full_name": "أليس Ålice"},
                             idempotency_key="form:alice-2"))
    noop = ex(session, UpdateRecord("user", IDS["alice"], 2, {"role": "admin"}))
    repeat = ex(session, UpdateRecord("user", IDS["alice"], 1, {
        "role": "admin", "active": "on", "full_name": "أليس Ålice"},
        idempotency_key="form:alice-2"))
    ex(session, CreateRecord("setting", {"key": "Mail.SMTP_host", "value": "smtp.example.com"},
                             IDS["smtp"]))
    ex(session, UpdateRecord("setting", IDS["smtp"], 1, {"value": ""}, meta={"reason": "reset"}))
    ex(session, DeleteRecord("setting", IDS["smtp"], 2))
    ex(session, CreateRecord("note", {"title": "long", "body": LONG}, IDS["note"]))
    ex(session, UpdateRecord("note", IDS["note"], 1, {"body": LONG + "\nmore"}))
    auditor.execute_all(session, [
        UpdateRecord("team", IDS["red"], 1, {"name": "Red"}),
        UpdateRecord("team", IDS["blue"], 1, {"description": "x" * 4000}),
        UpdateRecord("project", IDS["apollo"], 2, {"budget": "€ 1 000"}),
    ])
    with pytest.raises(StaleVersionError) as stale:
        ex(session, UpdateRecord("team", IDS["red"], 1, {"name": "Late"}))
    return {"noop": noop.event, "replayed": repeat.replayed, "stale": str(stale.value),
            "stale_current": normal_record(stale.value.current, auditor.node_id)}


def normal_record(record: dict[str, Any] | None, node_id: str) -> dict[str, Any] | None:
    if record is None:
        return None
    out = {k: v for k, v in record.items() if k not in ("hlc", "origin_node_id")}
    out["vv"] = normal_vv(record["vv"], node_id)
    if isinstance(out.get("password"), str):
        out["password"] = "<scrypt hash>"
    return out


def normal_vv(vv: dict[str, int], node_id: str) -> dict[str, int]:
    return {("NODE" if k == node_id else k): v for k, v in vv.items()}


def normal_state(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    return {k: ("<scrypt hash>" if k == "password" and v else v) for k, v in doc.items()}


def normal_events(session: Session, node_id: str) -> list[dict[str, Any]]:
    events = events_after(session, 0, limit=1000)
    assert [e.hlc for e in events] == sorted(e.hlc for e in events)  # HLC rises with seq
    out = []
    for e in events:
        doc = e.content()
        for local in ("event_id", "origin_node_id", "hlc"):
            doc.pop(local)
        doc.update(seq=e.seq, params=normal_state(e.params), pre_state=normal_state(e.pre_state),
                   post_state=normal_state(e.post_state),
                   vv_before=normal_vv(e.vv_before, node_id),
                   vv_after=normal_vv(e.vv_after, node_id))
        out.append(doc)
    return out


def outcome(backend: str, tmp_path: Any) -> dict[str, Any]:
    engine = fresh_engine(backend, "parity", tmp_path)
    try:
        notes.table.create(engine)
        with Session(engine) as session:
            clock = HybridClock()
            auditor = Auditor(registry, clock, init_node(session, "parity", clock))
            result = run_sequence(session, auditor)
            session.rollback()
            result["events"] = normal_events(session, auditor.node_id)
            result["records"] = {
                e.name: [normal_record(r, auditor.node_id)
                         for r in list_records(session, e, limit=100).records]
                for e in registry}
        return result
    finally:
        engine.dispose()


def test_the_same_commands_give_the_same_events_and_records_on_every_database(tmp_path):
    results = {backend: outcome(backend, tmp_path) for backend in BACKENDS}
    reference = results["sqlite"]
    assert len(reference["events"]) == 14
    assert reference["noop"] is None and reference["replayed"] is True
    assert reference["records"]["note"][0]["body"] == LONG + "\nmore"
    assert len(reference["records"]["note"][0]["body"].encode()) > 64 * 1024
    for backend in BACKENDS[1:]:
        for key in ("events", "records", "stale", "stale_current", "noop", "replayed"):
            assert results[backend][key] == reference[key], f"{backend} differs in {key}"
