"""Conflicts an admin resolves: the resolution is an audited command that dominates
every side and closes the conflict on each node it reaches. Unique-value collisions and
update-against-delete are conflicts too, never a stuck sync."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.replication_cluster import Node, cluster_fixtures, sync, team_schema_2
from webapp.audit import vv
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.context import AuditContext
from webapp.audit.errors import ParamsError, StaleVersionError
from webapp.audit.replication import (
    ConflictClosedError,
    ConflictNotFoundError,
    get_conflict,
    list_conflicts,
    resolve_conflict,
)
from webapp.audit.service import Auditor

cluster, nodes = cluster_fixtures(2, "rc")


def collide(a: Node, b: Node, left: dict[str, Any] | None,
            right: dict[str, Any] | None) -> str:
    """A team both nodes have, changed (or deleted, for None) on each before a sync."""
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    b.pull(a)
    for node, change in ((a, left), (b, right)):
        if change is None:
            node.run(DeleteRecord("team", team["id"], 1))
        else:
            node.run(UpdateRecord("team", team["id"], 1, change))
    sync(a, b)
    return str(team["id"])


def test_a_resolution_closes_the_conflict_on_every_node_once_it_replicates(
        nodes: list[Node]) -> None:
    a, b = nodes
    team_id = collide(a, b, {"name": "A"}, {"name": "B", "description": "from b"})
    conflict = list_conflicts(b.session)[0]
    version = b.record("team", team_id)["version"]  # type: ignore[index]
    admin = AuditContext(user_id="admin-1")
    result = resolve_conflict(b.auditor, b.session, conflict.conflict_id,
                              {"name": "A", "description": "from b"}, version, admin)
    assert result.event is not None and result.event.meta == {"resolves": conflict.conflict_id}
    for side in conflict.sides:  # the resolution's vector dominates both sides
        assert vv.compare(side.vv, result.event.vv_after) == vv.Order.BEFORE
    assert list_conflicts(b.session) == []  # closed here in the same transaction
    assert len(list_conflicts(a.session)) == 1  # still open there, until it replicates
    a.pull(b)
    for node in (a, b):
        assert list_conflicts(node.session) == []
        closed = get_conflict(node.session, conflict.conflict_id)
        assert closed is not None and closed.status == "resolved"
        assert closed.resolved_event_id == result.event.event_id
        assert closed.resolved_by == "admin-1"
        row = node.record("team", team_id)
        assert row is not None and (row["name"], row["description"]) == ("A", "from b")
    assert a.snapshot() == b.snapshot()


def test_resolving_a_closed_or_unknown_conflict_or_with_a_stale_version_is_refused(
        nodes: list[Node]) -> None:
    a, b = nodes
    team_id = collide(a, b, {"name": "A"}, {"name": "B"})
    conflict = list_conflicts(a.session)[0]
    version = a.record("team", team_id)["version"]  # type: ignore[index]
    with pytest.raises(StaleVersionError):
        resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"name": "X"}, version - 1)
    with pytest.raises(ParamsError):
        resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"name": ""}, version)
    assert len(list_conflicts(a.session)) == 1  # nothing was written
    resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"name": "X"}, version)
    with pytest.raises(ConflictClosedError, match="resolved"):
        resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"name": "Y"}, version + 1)
    with pytest.raises(ConflictNotFoundError):
        resolve_conflict(a.auditor, a.session, "0" * 32, {"name": "Y"}, 1)


def test_any_local_edit_that_has_seen_both_sides_settles_the_collision(
        nodes: list[Node]) -> None:
    a, b = nodes
    team_id = collide(a, b, {"name": "A"}, {"name": "B"})
    version = a.record("team", team_id)["version"]  # type: ignore[index]
    edit = a.run(UpdateRecord("team", team_id, version, {"description": "merged by hand"}))
    assert list_conflicts(a.session) == []
    b.pull(a)
    assert list_conflicts(b.session) == []
    resolved = list_conflicts(b.session, status="resolved")
    assert [c.resolved_event_id for c in resolved] == [edit.event.event_id]  # type: ignore[union-attr]


@pytest.mark.parametrize("deleter_wins", [True, False])
def test_update_against_delete_is_a_conflict_and_lww_picks_the_provisional_winner(
        nodes: list[Node], deleter_wins: bool) -> None:
    a, b = nodes
    # The second writer has the greater HLC: it is the provisional winner.
    left, right = ({"name": "Kept"}, None) if deleter_wins else (None, {"name": "Kept"})
    team_id = collide(a, b, left, right)
    for node in (a, b):
        [conflict] = list_conflicts(node.session)
        assert conflict.kind == "update_delete"
        assert {s.state is None for s in conflict.sides} == {True, False}
        assert (node.record("team", team_id) is None) == deleter_wins
    assert a.snapshot() == b.snapshot()


def test_a_deleted_record_that_won_can_be_brought_back_by_the_resolution(
        nodes: list[Node]) -> None:
    a, b = nodes
    team_id = collide(a, b, {"name": "Kept", "description": "edited on a"}, None)
    [conflict] = list_conflicts(a.session)
    assert a.record("team", team_id) is None and conflict.version == 3
    result = resolve_conflict(a.auditor, a.session, conflict.conflict_id,
                              {"name": "Back"}, conflict.version)
    assert result.event is not None and result.event.op == "created"
    b.pull(a)
    for node in (a, b):
        row = node.record("team", team_id)
        assert row is not None and (row["name"], row["description"]) == ("Back", "edited on a")
        assert list_conflicts(node.session) == []
    assert a.snapshot() == b.snapshot()


def test_a_revived_record_is_its_side_upcast_to_the_schema_this_node_knows(
        nodes: list[Node]) -> None:
    a, b = nodes
    team_id = collide(a, b, {"name": "Kept"}, None)  # the delete, written second, wins
    [conflict] = list_conflicts(a.session)
    a.auditor = Auditor(team_schema_2(), a.auditor.clock, a.node_id)  # a was upgraded
    result = resolve_conflict(a.auditor, a.session, conflict.conflict_id, {},
                              conflict.version)
    assert result.event is not None and result.event.schema_version == 2
    assert result.event.post_state is not None and result.event.post_state["name"] == "KEPT"
    assert a.record("team", team_id)["name"] == "KEPT"  # type: ignore[index]


def test_a_delete_can_be_confirmed_by_the_resolution(nodes: list[Node]) -> None:
    a, b = nodes
    team_id = collide(a, b, {"name": "Edited"}, None)
    [conflict] = list_conflicts(b.session)
    result = resolve_conflict(b.auditor, b.session, conflict.conflict_id, None,
                              conflict.version)
    assert result.event is not None and result.event.op == "deleted" and result.record is None
    a.pull(b)
    for node in (a, b):
        assert node.record("team", team_id) is None
        assert list_conflicts(node.session) == []
    assert a.snapshot() == b.snapshot()


def bob_on_both(a: Node, b: Node) -> dict[str, Node]:
    """A user "bob" made on each node before a sync: record id -> the node that made it."""
    made = {}
    for node in (a, b):
        bob = node.run(CreateRecord("user", {"username": "bob", "role": "viewer",
                                             "email": f"bob@{node.name}.example"})).record
        assert bob is not None
        made[bob["id"]] = node
    sync(a, b)
    return made


def test_the_same_username_made_on_two_nodes_is_a_conflict_not_a_stuck_sync(
        nodes: list[Node]) -> None:
    a, b = nodes
    older, newer = sorted(bob_on_both(a, b))
    for node in (a, b):
        assert node.record("user", older)["username"] == "bob"  # type: ignore[index]
        assert node.record("user", newer)["username"] == f"bob-{newer[-8:].lower()}"  # type: ignore[index]
        [conflict] = list_conflicts(node.session)
        assert (conflict.kind, conflict.field, conflict.value) == ("unique_collision",
                                                                  "username", "bob")
        assert conflict.record_id == newer
        assert {s.record_id for s in conflict.sides} == {older, newer}
    assert a.snapshot() == b.snapshot()
    # The admin renames the loser: the conflict closes on both nodes.
    version = a.record("user", newer)["version"]  # type: ignore[index]
    resolve_conflict(a.auditor, a.session, conflict.conflict_id, {"username": "robert"}, version)
    b.pull(a)
    for node in (a, b):
        assert list_conflicts(node.session) == []
        assert node.record("user", newer)["username"] == "robert"  # type: ignore[index]
    assert a.snapshot() == b.snapshot()


def test_a_suffixed_loser_gets_its_value_back_when_the_winner_lets_go(
        nodes: list[Node]) -> None:
    a, b = nodes
    made = bob_on_both(a, b)
    older, newer = sorted(made)
    owner = made[older]
    owner.run(DeleteRecord("user", older, 1))
    assert owner.record("user", newer)["username"] == "bob"  # type: ignore[index]
    sync(a, b)
    for node in (a, b):
        assert node.record("user", newer)["username"] == "bob"  # type: ignore[index]
        assert list_conflicts(node.session) == []
    assert a.snapshot() == b.snapshot()
