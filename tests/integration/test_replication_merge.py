"""Concurrent edits merge field by field on every node: changes to different fields both
survive on either policy, and only a field changed differently on several sides reaches
a conflict, which lists exactly that field."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.replication_cluster import Node, cluster_fixtures, sync
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import StaleVersionError
from webapp.audit.replication import get_conflict, list_conflicts, resolve_conflict

cluster, nodes = cluster_fixtures(3, "rm")


def shared(a: Node, others: list[Node], entity: str, values: dict[str, Any]) -> dict[str, Any]:
    record = a.run(CreateRecord(entity, values)).record
    assert record is not None
    for node in others:
        node.pull(a)
    return record


def project(a: Node, others: list[Node]) -> dict[str, Any]:
    team = shared(a, others, "team", {"slug": "red", "name": "Red"})
    return shared(a, others, "project", {"name": "Apollo", "team_id": team["id"],
                                         "status": "planned"})


def fields_of(node: Node, entity: str, record_id: str, *names: str) -> tuple[Any, ...]:
    row = node.record(entity, record_id)
    assert row is not None
    return tuple(row[n] for n in names)


def test_lww_edits_of_different_fields_both_survive_with_no_conflict(nodes: list[Node]) -> None:
    a, b, _ = nodes
    rec = project(a, [b])
    a.run(UpdateRecord("project", rec["id"], rec["version"], {"status": "active"}))
    b.run(UpdateRecord("project", rec["id"], rec["version"], {"budget": "large"}))
    sync(a, b)
    for node in (a, b):
        assert fields_of(node, "project", rec["id"], "status", "budget") == ("active", "large")
        assert list_conflicts(node.session) == []
        merged = list_conflicts(node.session, status="merged")
        assert len(merged) == 1 and merged[0].disputed == ()
        assert sorted(s.fields for s in merged[0].sides) == [("budget",), ("status",)]
    assert a.snapshot() == b.snapshot()


def test_manual_edits_of_different_fields_merge_without_a_conflict(nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = shared(a, [b], "team", {"slug": "red", "name": "Red"})
    a.run(UpdateRecord("team", team["id"], 1, {"description": "from a"}))
    b.run(UpdateRecord("team", team["id"], 1, {"name": "Blue"}))
    sync(a, b)
    for node in (a, b):
        assert fields_of(node, "team", team["id"], "name", "description") == ("Blue", "from a")
        assert list_conflicts(node.session) == []
    assert a.snapshot() == b.snapshot()


def test_one_field_changed_differently_is_one_conflict_listing_only_that_field(
        nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = shared(a, [b], "team", {"slug": "red", "name": "Red"})
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ay", "description": "from a"}))
    b.run(UpdateRecord("team", team["id"], 1, {"name": "Bee"}))
    sync(a, b)
    states = set()
    for node in (a, b):
        (conflict,) = list_conflicts(node.session)
        assert conflict.disputed == ("name",)
        states.add(fields_of(node, "team", team["id"], "name", "description"))
    # The provisional value is the greater change's, the rest is merged already.
    assert len(states) == 1 and states.pop()[1] == "from a"
    # Resolving on one node closes it on both, keeping the merged description.
    row = a.record("team", team["id"])
    assert row is not None
    resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"name": "Ay"}, row["version"])
    sync(a, b)
    for node in (a, b):
        assert list_conflicts(node.session) == []
        assert fields_of(node, "team", team["id"], "name", "description") == ("Ay", "from a")
        closed = get_conflict(node.session, conflict.conflict_id)
        assert closed is not None and closed.status == "resolved"
    assert a.snapshot() == b.snapshot()


def test_lww_takes_the_greatest_change_of_a_disputed_field_and_marks_the_loser(
        nodes: list[Node]) -> None:
    a, b, _ = nodes
    rec = project(a, [b])
    first = a.run(UpdateRecord("project", rec["id"], rec["version"], {"status": "active"}))
    second = b.run(UpdateRecord("project", rec["id"], rec["version"],
                                {"status": "done", "budget": "small"}))
    assert first.event is not None and second.event is not None
    sync(a, b)
    greater = max((first.event, second.event), key=lambda e: (e.hlc, e.origin_node_id))
    lesser = first.event if greater is second.event else second.event
    for node in (a, b):
        assert fields_of(node, "project", rec["id"], "status", "budget") == (
            greater.post_state["status"], "small")  # type: ignore[index]
        (auto,) = list_conflicts(node.session, status="auto")
        assert auto.disputed == ("status",)
        lost = {s.event_id: s.lost for s in auto.sides}
        assert lost == {lesser.event_id: ("status",), greater.event_id: ()}
    assert a.snapshot() == b.snapshot()


def test_three_nodes_merge_the_same_way_and_a_three_way_dispute_has_three_sides(
        nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared(a, [b, c], "team", {"slug": "red", "name": "Red"})
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ay"}))
    b.run(UpdateRecord("team", team["id"], 1, {"name": "Bee", "description": "b"}))
    c.run(UpdateRecord("team", team["id"], 1, {"name": "Cee"}))
    # Different orders on each node.
    a.pull(c), a.pull(b)
    b.pull(a), b.pull(c)
    c.pull(b), c.pull(a)
    for node in (a, b, c):
        (conflict,) = list_conflicts(node.session)
        assert conflict.disputed == ("name",) and len(conflict.sides) == 3
        assert fields_of(node, "team", team["id"], "description") == ("b",)
    assert a.snapshot() == b.snapshot() == c.snapshot()


def test_a_collision_opened_and_resolved_within_one_pulled_batch_leaves_the_same_history(
        nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared(a, [b, c], "team", {"slug": "red", "name": "Red"})
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ay"}))
    b.run(UpdateRecord("team", team["id"], 1, {"name": "Bee"}))
    a.pull(b)
    (conflict,) = list_conflicts(a.session)
    row = a.record("team", team["id"])
    assert row is not None
    resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"name": "Both"}, row["version"])
    c.pull(a)  # c gets both sides and the resolution in one batch
    closed = get_conflict(c.session, conflict.conflict_id)
    assert closed is not None and closed.status == "resolved"
    assert closed.disputed == ("name",)
    assert fields_of(c, "team", team["id"], "name") == ("Both",)
    there = get_conflict(a.session, conflict.conflict_id)
    assert there is not None
    assert (closed.resolved_event_id, closed.resolved_by, closed.winner_event_id,
            [(s.event_id, s.fields, s.lost) for s in closed.sides]) == (
        there.resolved_event_id, there.resolved_by, there.winner_event_id,
        [(s.event_id, s.fields, s.lost) for s in there.sides])


def test_a_local_edit_builds_on_the_merged_state_with_the_usual_version_check(
        nodes: list[Node]) -> None:
    a, b, _ = nodes
    rec = project(a, [b])
    a.run(UpdateRecord("project", rec["id"], rec["version"], {"status": "active"}))
    b.run(UpdateRecord("project", rec["id"], rec["version"], {"budget": "large"}))
    sync(a, b)
    row = a.record("project", rec["id"])
    assert row is not None
    with pytest.raises(StaleVersionError):  # the version from before the merge is stale
        a.run(UpdateRecord("project", rec["id"], rec["version"] + 1, {"name": "Gemini"}))
    edit = a.run(UpdateRecord("project", rec["id"], row["version"], {"name": "Gemini"}))
    assert edit.event is not None and edit.event.pre_state is not None
    assert (edit.event.pre_state["status"], edit.event.pre_state["budget"]) == ("active", "large")
    b.pull(a)
    assert fields_of(b, "project", rec["id"], "name", "status", "budget") == (
        "Gemini", "active", "large")
    assert a.snapshot() == b.snapshot()


def test_update_against_delete_stays_a_conflict(nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = shared(a, [b], "team", {"slug": "red", "name": "Red"})
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ay"}))
    b.run(DeleteRecord("team", team["id"], 1))
    sync(a, b)
    for node in (a, b):
        (conflict,) = list_conflicts(node.session)
        assert conflict.kind == "update_delete"
    assert a.snapshot() == b.snapshot()


def test_bringing_back_a_record_whose_delete_won_keeps_every_live_sides_change(
        nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared(a, [b, c], "team", {"slug": "red", "name": "Red"})
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ay"}))
    b.run(UpdateRecord("team", team["id"], 1, {"description": "from b"}))
    time.sleep(0.005)
    c.run(DeleteRecord("team", team["id"], 1))  # the latest: the delete wins for now
    for node in (a, b, c):
        for other in (a, b, c):
            if other is not node:
                node.pull(other)
    assert a.record("team", team["id"]) is None
    (conflict,) = list_conflicts(a.session)
    assert conflict.kind == "update_delete"
    resolve_conflict(a.auditor, a.session, conflict.conflict_id, {}, conflict.version)
    for node in (b, c):
        node.pull(a)
    for node in (a, b, c):
        assert fields_of(node, "team", team["id"], "name", "description") == ("Ay", "from b")
        assert list_conflicts(node.session) == []
    assert a.snapshot() == b.snapshot() == c.snapshot()
