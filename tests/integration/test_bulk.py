"""Several commands in one transaction: one commit, one event per row, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.integration.core_helpers import all_events, count, node_row
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import NotFoundError, ParamsError, StaleVersionError
from webapp.audit.transaction import Transaction
from webapp.domain import registry, settings, teams


@contextmanager
def counting_commits(engine: sa.Engine) -> Iterator[list[int]]:
    commits: list[int] = []

    def on_commit(_conn: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)


@pytest.fixture
def five_hundred(session, auditor) -> list[dict]:
    created = auditor.execute_all(session, [
        CreateRecord("setting", {"key": f"bulk.k{i:03d}", "value": "old"}) for i in range(500)])
    return [r.record for r in created]


def test_500_updates_commit_once_with_one_event_per_row(engine, session, auditor, five_hundred):
    before = node_row(session)
    batch = [UpdateRecord("setting", r["id"], r["version"], {"value": f"new {n}"})
             for n, r in enumerate(five_hundred)]
    with counting_commits(engine) as commits:
        results = auditor.execute_all(session, batch)
    assert len(commits) == 1
    events = [r.event for r in results]
    assert [e.record_id for e in events] == [r["id"] for r in five_hundred]
    assert [e.seq for e in events] == list(range(before[0] + 1, before[0] + 501))
    assert all(a.hlc < b.hlc for a, b in zip(events, events[1:], strict=False))
    assert all(e.params == {"value": f"new {n}"} for n, e in enumerate(events))
    assert all(e.pre_state["value"] == "old" for e in events)
    assert len(all_events(session)) == 1000
    assert node_row(session)[0] == before[0] + 500
    session.rollback()
    values = session.execute(sa.select(settings.table.c.value, settings.table.c.version)).all()
    assert sorted(values) == sorted((f"new {n}", 2) for n in range(500))


@pytest.mark.parametrize("spoiler", ["stale version", "bad value", "unknown field"])
def test_one_bad_command_in_a_batch_of_500_writes_nothing(session, auditor, five_hundred,
                                                          spoiler):
    before = (node_row(session), len(all_events(session)))
    batch = [UpdateRecord("setting", r["id"], r["version"], {"value": "changed"})
             for r in five_hundred]
    victim = five_hundred[321]
    batch[321] = {
        "stale version": UpdateRecord("setting", victim["id"], 7, {"value": "changed"}),
        "bad value": UpdateRecord("setting", victim["id"], 1, {"value": "x" * 2001}),
        "unknown field": UpdateRecord("setting", victim["id"], 1, {"colour": "red"}),
    }[spoiler]
    with pytest.raises((StaleVersionError, ParamsError)):
        auditor.execute_all(session, batch)
    assert (node_row(session), len(all_events(session))) == before
    session.rollback()
    assert set(session.execute(sa.select(settings.table.c.value)).scalars()) == {"old"}


def test_a_batch_may_touch_one_record_several_times(session, auditor):
    first = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"}))
    rid = first.record["id"]
    results = auditor.execute_all(session, [
        UpdateRecord("team", rid, 1, {"name": "Two"}),
        UpdateRecord("team", rid, 2, {"name": "Three"}),
        DeleteRecord("team", rid, 3),
    ])
    assert [r.event.vv_after for r in results] == [
        {auditor.node_id: n} for n in (2, 3, 4)]
    assert results[1].event.pre_state["name"] == "Two"
    assert count(session, teams.table) == 0 and len(all_events(session)) == 4


def test_a_batch_may_hand_a_unique_value_from_one_record_to_another(session, auditor):
    old = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Old"})).record
    # Free the slug, then take it, in one transaction: in command order, not table order.
    auditor.execute_all(session, [
        UpdateRecord("team", old["id"], 1, {"slug": "red-archived"}),
        CreateRecord("team", {"slug": "red", "name": "New"}),
    ])
    session.rollback()
    names = dict(session.execute(sa.select(teams.table.c.slug, teams.table.c.name)).all())
    assert names == {"red-archived": "Old", "red": "New"}


def test_a_batch_may_create_a_team_and_its_project_together(session, auditor):
    team = CreateRecord("team", {"slug": "red", "name": "Red"})
    project = CreateRecord("project", {"name": "Apollo", "team_id": team.record_id,
                                       "status": "planned"})
    results = auditor.execute_all(session, [team, project])
    assert results[1].record["team_id"] == team.record_id


@pytest.mark.parametrize("bad_id", [None, ["a", "list"], "nope", "01arz3ndektsv4rrffq69g5fav"])
def test_a_malformed_id_in_a_batch_is_not_found_and_nothing_is_written(session, auditor, bad_id):
    red = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"})).record
    before = (node_row(session), len(all_events(session)))
    with pytest.raises(NotFoundError, match="is not a ULID"):
        auditor.execute_all(session, [
            UpdateRecord("team", red["id"], 1, {"name": "Renamed"}),
            UpdateRecord("team", bad_id, 1, {"name": "Other"}),
            CreateRecord("team", {"slug": "blue", "name": "Blue"}),
        ])
    assert (node_row(session), len(all_events(session))) == before
    assert count(session, teams.table) == 1


def test_an_empty_batch_writes_nothing(session, auditor):
    before = node_row(session)
    assert auditor.execute_all(session, []) == []
    assert node_row(session) == before


def test_a_batch_read_takes_any_ids_and_finds_only_real_records(session, auditor):
    """Ids that are not ULIDs name no record: never sent (MariaDB's lists are written
    into the statement, and only ids may be)."""
    red = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"})).record
    tx = Transaction(session, registry, auditor.clock, auditor.node_id)
    hostile = ["nope", "x') OR 1=1 --", red["id"].lower()]
    tx.prefetch(teams, [red["id"], *hostile])
    tx.prefetch_tombstones(teams, [red["id"], *hostile])
    assert tx.record(teams, red["id"])["slug"] == "red"
    assert [tx.record(teams, i) for i in hostile] == [None, None, None]
    assert not any(tx.is_tombstoned(teams, i) for i in [red["id"], *hostile])
    session.rollback()
