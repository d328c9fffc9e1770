"""Rules across records: unique fields and references give field errors, and a record
still referenced cannot be deleted. Nothing is written when a rule refuses."""

from __future__ import annotations

import pytest

from tests.integration.core_helpers import all_events, count, new_team, node_row, row_of
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import IntegrityRuleError, ParamsError
from webapp.audit.ids import new_ulid
from webapp.domain import projects, teams, users


def field_errors(auditor, session, command) -> dict[str, str]:
    before = (node_row(session), len(all_events(session)))
    with pytest.raises(ParamsError) as caught:
        auditor.execute(session, command)
    assert (node_row(session), len(all_events(session))) == before
    return caught.value.errors


def user(name: str, email: str | None = None) -> dict[str, str]:
    return {"username": name, "email": email or f"{name}@example.com", "role": "viewer"}


def test_a_taken_unique_value_is_a_field_error(session, auditor):
    new_team(auditor, session, "red")
    errors = field_errors(auditor, session, CreateRecord("team", {"slug": "RED", "name": "Two"}))
    assert errors == {"slug": "'red' is already taken by another team"}


def test_every_taken_unique_field_is_reported_at_once(session, auditor):
    auditor.execute(session, CreateRecord("user", user("alice")))
    twin = CreateRecord("user", user("alice", "ALICE@example.com"))
    errors = field_errors(auditor, session, twin)
    assert set(errors) == {"username", "email"}


def test_an_update_may_keep_its_own_unique_value_but_not_take_another(session, auditor):
    red, blue = new_team(auditor, session, "red"), new_team(auditor, session, "blue")
    auditor.execute(session, UpdateRecord("team", red["id"], 1, {"slug": "red", "name": "R"}))
    errors = field_errors(auditor, session, UpdateRecord("team", blue["id"], 1, {"slug": "red"}))
    assert errors == {"slug": "'red' is already taken by another team"}
    assert row_of(session, teams.table, blue["id"])["slug"] == "blue"


def test_a_unique_value_freed_by_a_delete_can_be_taken(session, auditor):
    red = new_team(auditor, session, "red")
    auditor.execute(session, DeleteRecord("team", red["id"], 1))
    assert new_team(auditor, session, "red")["id"] != red["id"]


def test_two_creates_of_one_unique_value_in_a_batch_are_refused(session, auditor):
    with pytest.raises(ParamsError) as caught:
        auditor.execute_all(session, [CreateRecord("team", {"slug": "red", "name": "A"}),
                                      CreateRecord("team", {"slug": "red", "name": "B"})])
    assert set(caught.value.errors) == {"slug"}
    assert count(session, teams.table) == 0


def test_a_reference_to_a_missing_record_is_a_field_error(session, auditor):
    missing = new_ulid()
    errors = field_errors(auditor, session, CreateRecord(
        "project", {"name": "Apollo", "team_id": missing, "status": "planned"}))
    assert errors == {"team_id": f"no team with id {missing}"}


def test_a_reference_to_a_deleted_record_is_a_field_error(session, auditor):
    red = new_team(auditor, session, "red")
    auditor.execute(session, DeleteRecord("team", red["id"], 1))
    errors = field_errors(auditor, session, CreateRecord(
        "project", {"name": "Apollo", "team_id": red["id"], "status": "planned"}))
    assert set(errors) == {"team_id"}


def test_a_reference_must_point_at_the_declared_entity(session, auditor):
    someone = auditor.execute(session, CreateRecord("user", user("alice"))).record
    errors = field_errors(auditor, session, CreateRecord(
        "project", {"name": "Apollo", "team_id": someone["id"], "status": "planned"}))
    assert set(errors) == {"team_id"}


def test_deleting_a_referenced_team_is_refused_until_nothing_uses_it(session, auditor):
    red = new_team(auditor, session, "red")
    apollo = auditor.execute(session, CreateRecord(
        "project", {"name": "Apollo", "team_id": red["id"], "status": "planned"})).record
    state = node_row(session)
    with pytest.raises(IntegrityRuleError, match=f"still used by project {apollo['id']}"):
        auditor.execute(session, DeleteRecord("team", red["id"], 1))
    assert row_of(session, teams.table, red["id"]) is not None and node_row(session) == state
    auditor.execute(session, DeleteRecord("project", apollo["id"], 1))
    auditor.execute(session, DeleteRecord("team", red["id"], 1))
    assert count(session, teams.table) == count(session, projects.table) == 0


def test_a_batch_cannot_leave_a_project_pointing_at_a_deleted_team(session, auditor):
    red, blue = new_team(auditor, session, "red"), new_team(auditor, session, "blue")
    apollo = auditor.execute(session, CreateRecord(
        "project", {"name": "Apollo", "team_id": blue["id"], "status": "planned"})).record
    state = node_row(session)
    for batch in (
        [CreateRecord("project", {"name": "Zeus", "team_id": red["id"], "status": "planned"}),
         DeleteRecord("team", red["id"], 1)],
        [UpdateRecord("project", apollo["id"], 1, {"team_id": red["id"]}),
         DeleteRecord("team", red["id"], 1)],
    ):
        with pytest.raises(IntegrityRuleError):
            auditor.execute_all(session, batch)
        assert node_row(session) == state
    # Moving the project away first, in the same batch, frees the team.
    auditor.execute_all(session, [UpdateRecord("project", apollo["id"], 1, {"team_id": red["id"]}),
                                  DeleteRecord("team", blue["id"], 1)])
    assert row_of(session, teams.table, blue["id"]) is None


def test_a_user_row_never_holds_the_cleartext_password(session, auditor):
    created = auditor.execute(session, CreateRecord(
        "user", {**user("alice"), "password": "s3cret-enough"})).record
    assert row_of(session, users.table, created["id"])["password"].startswith("$argon2id$")
