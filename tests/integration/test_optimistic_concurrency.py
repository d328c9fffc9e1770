"""Every update and delete checks the version it was built on; deletes leave tombstones."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.integration.core_helpers import all_events, new_team, node_row, row_of
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import IntegrityRuleError, NotFoundError, ParamsError, StaleVersionError
from webapp.audit.ids import new_ulid
from webapp.audit.tables import tombstones
from webapp.domain import teams


def test_a_stale_update_is_refused_with_the_current_state(session, auditor):
    team = new_team(auditor, session, "red")
    auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": "Crimson"}))
    state = node_row(session)
    with pytest.raises(StaleVersionError) as caught:
        auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": "Scarlet"}))
    error = caught.value
    assert (error.entity, error.record_id, error.expected) == ("team", team["id"], 1)
    assert error.current["version"] == 2 and error.current["name"] == "Crimson"
    assert error.current["vv"] == {auditor.node_id: 2}
    assert "is at version 2, the command expected version 1" in str(error)
    assert row_of(session, teams.table, team["id"])["name"] == "Crimson"
    assert node_row(session) == state


def test_a_stale_delete_is_refused_and_the_record_stays(session, auditor):
    team = new_team(auditor, session, "red")
    auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": "Crimson"}))
    with pytest.raises(StaleVersionError) as caught:
        auditor.execute(session, DeleteRecord("team", team["id"], 1))
    assert caught.value.current["name"] == "Crimson"
    assert row_of(session, teams.table, team["id"]) is not None


def test_a_version_from_the_future_is_stale_too(session, auditor):
    team = new_team(auditor, session, "red")
    with pytest.raises(StaleVersionError):
        auditor.execute(session, UpdateRecord("team", team["id"], 5, {"name": "X"}))


def test_a_delete_leaves_a_tombstone_and_a_later_update_or_delete_is_refused(session, auditor):
    team = new_team(auditor, session, "red")
    gone = auditor.execute(session, DeleteRecord("team", team["id"], 1))
    assert gone.record is None and gone.event.post_state is None
    assert gone.event.pre_state == {"id": team["id"], "slug": "red", "name": "Red",
                                    "description": None}
    assert gone.event.vv_after == {auditor.node_id: 2}
    assert row_of(session, teams.table, team["id"]) is None
    stone = session.execute(sa.select(tombstones)).one()._mapping
    assert (stone["entity"], stone["record_id"], stone["event_id"]) == (
        "team", team["id"], gone.event.event_id)
    assert stone["hlc"] == gone.event.hlc
    for late in (UpdateRecord("team", team["id"], 1, {"name": "Back"}),
                 UpdateRecord("team", team["id"], 2, {"name": "Back"}),
                 DeleteRecord("team", team["id"], 2)):
        with pytest.raises(StaleVersionError) as caught:
            auditor.execute(session, late)
        assert caught.value.current is None and "deleted" in str(caught.value)
    # The very same delete again is a retry, answered by the first result.
    assert auditor.execute(session, DeleteRecord("team", team["id"], 1)).replayed
    assert len(all_events(session)) == 2


def test_a_deleted_id_cannot_be_created_again(session, auditor):
    team = new_team(auditor, session, "red")
    auditor.execute(session, DeleteRecord("team", team["id"], 1))
    with pytest.raises(IntegrityRuleError, match="already exists or existed"):
        auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "New"}, team["id"]))


def test_an_unknown_or_malformed_id_is_not_found(session, auditor):
    with pytest.raises(NotFoundError, match="no team with id"):
        auditor.execute(session, UpdateRecord("team", new_ulid(), 1, {"name": "X"}))
    for bad in ("nope", new_ulid().lower(), new_ulid() + "\n", "", None):
        with pytest.raises(NotFoundError):
            auditor.execute(session, DeleteRecord("team", bad, 1))
    assert all_events(session) == []


def test_concurrent_updates_from_one_version_let_exactly_one_win(engine, session, auditor):
    team = new_team(auditor, session, "red")
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        with Session(engine) as mine:
            start.wait()
            try:
                auditor.execute(mine, UpdateRecord("team", team["id"], 1, {"name": f"N{n}"}))
                outcomes.append("won")
            except StaleVersionError as exc:
                assert exc.current is not None and exc.current["version"] == 2
                outcomes.append("stale")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["stale"] * 5 + ["won"]
    assert row_of(session, teams.table, team["id"])["version"] == 2
    assert [e.seq for e in all_events(session)] == [1, 2]


@pytest.mark.parametrize("bad", ["1", True, -1, None, 1.0])
def test_a_version_that_is_not_a_whole_number_is_refused(session, auditor, bad):
    team = new_team(auditor, session, "red")
    with pytest.raises(ParamsError) as caught:
        auditor.execute(session, UpdateRecord("team", team["id"], bad, {"name": "X"}))
    assert set(caught.value.errors) == {"version"}
    assert row_of(session, teams.table, team["id"])["version"] == 1
