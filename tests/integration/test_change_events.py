"""What one committed command records: params, full pre- and post-state, version
vectors, schema version, idempotency key, the audit context and an HLC wall time."""

from __future__ import annotations

import pytest

from tests.integration.core_helpers import all_events, count, new_team, row_of
from webapp.audit import AuditContext, CreateRecord, UpdateRecord, audit_context
from webapp.audit.errors import ParamsError, UnknownEntityError
from webapp.audit.hlc import wall_ms
from webapp.audit.ids import is_ulid
from webapp.domain import teams

CTX = AuditContext(user_id="u-1", request_id="req-1", client_ip="192.0.2.4",
                   session_id="sess-1", tenant_id="acme").with_traceparent(
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


def test_a_create_records_params_post_state_and_a_first_version_vector(session, auditor):
    before = wall_ms()
    result = auditor.execute(session, CreateRecord(
        "team", {"slug": "Red", "name": " Red "}), CTX)
    event, record = result.event, result.record
    assert is_ulid(event.event_id) and is_ulid(record["id"])
    assert (event.entity, event.record_id, event.op, event.seq) == ("team", record["id"],
                                                                   "created", 1)
    assert event.params == {"slug": "red", "name": "Red", "description": None}
    assert event.pre_state is None
    assert event.post_state == {"id": record["id"], "slug": "red", "name": "Red",
                                "description": None}
    assert event.vv_before == {} and event.vv_after == {auditor.node_id: 1}
    assert record["version"] == 1 and record["hlc"] == event.hlc
    assert event.origin_node_id == record["origin_node_id"] == auditor.node_id
    assert event.schema_version == teams.schema_version
    assert event.idempotency_key.startswith("auto:")
    assert before <= event.wall_time.timestamp() * 1000 <= wall_ms() + 1
    assert all_events(session) == [event]


def test_the_audit_context_is_recorded_from_the_argument_or_the_contextvar(session, auditor):
    red = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "R"}), CTX).event
    assert (red.user_id, red.request_id, red.client_ip, red.session_id, red.tenant_id) == (
        "u-1", "req-1", "192.0.2.4", "sess-1", "acme")
    assert (red.trace_id, red.span_id) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    with audit_context(AuditContext(user_id="cli-job")):
        blue = auditor.execute(session, CreateRecord("team", {"slug": "blue", "name": "B"})).event
    assert blue.user_id == "cli-job" and blue.trace_id is None
    grey = auditor.execute(session, CreateRecord("team", {"slug": "grey", "name": "G"})).event
    assert grey.user_id == "system"
    assert [e.user_id for e in all_events(session)] == ["u-1", "cli-job", "system"]


def test_an_update_records_what_was_asked_and_what_resulted(session, auditor):
    red = new_team(auditor, session, "red", description="old text")
    event = auditor.execute(session, UpdateRecord(
        "team", red["id"], 1, {"name": "Crimson", "description": "old text"})).event
    assert event.params == {"name": "Crimson", "description": "old text"}
    assert event.pre_state == {"id": red["id"], "slug": "red", "name": "Red",
                               "description": "old text"}
    assert event.post_state == {**event.pre_state, "name": "Crimson"}
    assert event.vv_before == {auditor.node_id: 1} and event.vv_after == {auditor.node_id: 2}
    stored = row_of(session, teams.table, red["id"])
    assert (stored["version"], stored["name"], stored["hlc"]) == (2, "Crimson", event.hlc)


def test_an_update_that_changes_nothing_writes_nothing(session, auditor):
    red = new_team(auditor, session, "red")
    result = auditor.execute(session, UpdateRecord("team", red["id"], 1, {"name": "Red"}))
    assert result.event is None and result.record["version"] == 1
    assert len(all_events(session)) == 1


def test_an_update_with_a_reason_in_meta_is_recorded_even_without_changes(session, auditor):
    red = new_team(auditor, session, "red")
    event = auditor.execute(session, UpdateRecord("team", red["id"], 1, {},
                                                  meta={"reason": "reviewed"})).event
    assert event.meta == {"reason": "reviewed"} and event.vv_after == {auditor.node_id: 2}


@pytest.mark.parametrize("meta", [{"blob": "x" * 70_000}, {"bad": object()}, {1: "int key"},
                                  ["not", "a", "mapping"], {"s": "\ud800"}])
def test_meta_that_cannot_be_stored_everywhere_is_refused(session, auditor, meta):
    with pytest.raises(ParamsError) as caught:
        auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "R"}, meta=meta))
    assert set(caught.value.errors) == {"meta"}
    assert all_events(session) == []


def test_an_unknown_entity_is_refused(session, auditor):
    for name in ("spaceship", "", None, ["team"]):
        with pytest.raises(UnknownEntityError):
            auditor.execute(session, CreateRecord(name, {"slug": "x"}))
    assert all_events(session) == []


def test_invalid_params_are_refused_with_field_errors_and_nothing_written(session, auditor):
    with pytest.raises(ParamsError) as caught:
        auditor.execute(session, CreateRecord("team", {"slug": "no spaces", "name": ""}))
    assert set(caught.value.errors) == {"slug", "name"}
    assert all_events(session) == [] and count(session, teams.table) == 0
