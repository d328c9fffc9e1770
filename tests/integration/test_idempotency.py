"""A command repeated with the same idempotency key returns the first result and writes
nothing; the same key for a different command is refused."""

from __future__ import annotations

import pytest

from tests.integration.core_helpers import all_events, count, new_team, node_row, row_of
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import IdempotencyKeyReuseError, ParamsError
from webapp.audit.passwords import verify_password
from webapp.domain import teams, users

ALICE = {"username": "alice", "email": "alice@example.com", "role": "editor",
         "password": "correct horse battery"}


def test_a_repeated_create_returns_the_first_result_and_writes_nothing(session, auditor):
    first = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"},
                                                  idempotency_key="form:1"))
    state = node_row(session)
    again = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"},
                                                  idempotency_key="form:1"))
    assert again.replayed and not first.replayed
    assert again.event == first.event
    assert again.record == first.record
    assert count(session, teams.table) == 1 and len(all_events(session)) == 1
    assert node_row(session) == state


def test_a_double_submitted_user_form_with_a_password_writes_once(session, auditor):
    first = auditor.execute(session, CreateRecord("user", ALICE, idempotency_key="form:u1"))
    # The resubmitted form mints a new record id and its password gets a new salt.
    again = auditor.execute(session, CreateRecord("user", ALICE, idempotency_key="form:u1"))
    assert again.replayed and again.event.event_id == first.event.event_id
    assert again.record["id"] == first.record["id"]
    assert count(session, users.table) == 1 and len(all_events(session)) == 1
    stored = row_of(session, users.table, first.record["id"])
    assert verify_password(stored["password"], "correct horse battery")
    assert "correct horse battery" not in repr(all_events(session))


def test_a_repeated_update_returns_the_first_result_even_though_its_version_is_stale(
        session, auditor):
    team = new_team(auditor, session, "red")
    update = UpdateRecord("team", team["id"], 1, {"name": "Crimson"}, idempotency_key="k-up")
    first = auditor.execute(session, update)
    again = auditor.execute(session, update)
    assert again.replayed and again.event == first.event and again.record == first.record
    assert row_of(session, teams.table, team["id"])["version"] == 2
    assert len(all_events(session)) == 2


def test_a_repeated_update_without_a_key_is_recognised_by_its_derived_key(session, auditor):
    team = new_team(auditor, session, "red")
    first = auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": "Crimson"}))
    again = auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": " Crimson "}))
    assert again.replayed and again.event.event_id == first.event.event_id
    assert len(all_events(session)) == 2


def test_a_repeated_delete_returns_the_first_result(session, auditor):
    team = new_team(auditor, session, "red")
    delete = DeleteRecord("team", team["id"], 1, idempotency_key="k-del")
    first = auditor.execute(session, delete)
    again = auditor.execute(session, delete)
    assert again.replayed and again.event == first.event and again.record is None
    assert len(all_events(session)) == 2


def test_a_repeated_batch_replays_every_command(session, auditor):
    batch = [CreateRecord("team", {"slug": f"t{i}", "name": f"T{i}"}, idempotency_key=f"b:{i}")
             for i in range(3)]
    first = auditor.execute_all(session, batch)
    again = auditor.execute_all(session, batch)
    assert all(r.replayed for r in again)
    assert [r.event for r in again] == [r.event for r in first]
    assert len(all_events(session)) == 3


@pytest.mark.parametrize("second", [
    CreateRecord("team", {"slug": "red", "name": "Another name"}, idempotency_key="k"),
    CreateRecord("team", {"slug": "blue", "name": "Red"}, idempotency_key="k"),
    CreateRecord("project", {"name": "Red", "team_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                             "status": "active"}, idempotency_key="k"),
])
def test_the_same_key_for_a_different_command_is_refused(session, auditor, second):
    auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"},
                                          idempotency_key="k"))
    state = node_row(session)
    with pytest.raises(IdempotencyKeyReuseError, match="already used for a different command"):
        auditor.execute(session, second)
    assert node_row(session) == state and len(all_events(session)) == 1


def test_the_same_key_on_another_record_or_operation_is_refused(session, auditor):
    red, blue = new_team(auditor, session, "red"), new_team(auditor, session, "blue")
    auditor.execute(session, UpdateRecord("team", red["id"], 1, {"name": "X"}, idempotency_key="k"))
    with pytest.raises(IdempotencyKeyReuseError):
        auditor.execute(session, UpdateRecord("team", blue["id"], 1, {"name": "X"},
                                              idempotency_key="k"))
    with pytest.raises(IdempotencyKeyReuseError):
        auditor.execute(session, DeleteRecord("team", red["id"], 2, idempotency_key="k"))
    assert len(all_events(session)) == 3


def test_a_malformed_key_is_refused_before_anything_is_written(session, auditor):
    with pytest.raises(ParamsError) as caught:
        auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"},
                                              idempotency_key="has spaces"))
    assert set(caught.value.errors) == {"idempotency_key"}
    assert count(session, teams.table) == 0 and len(all_events(session)) == 0
