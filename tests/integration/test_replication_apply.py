"""Applying remote events, on every backend: idempotent, causal, lww and manual
collisions, unique values, update against delete, waiting dependencies, relays."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.replication_cluster import (
    Cluster,
    Node,
    cluster_fixtures,
    resealed,
    sync,
    team_schema_2,
)
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.entity import Entity, Registry
from webapp.audit.hlc import unpack
from webapp.audit.ids import new_ulid
from webapp.audit.params import Text
from webapp.audit.replication import (
    PayloadError,
    Replicator,
    get_conflict,
    list_conflicts,
    open_conflict_ids_for_events,
)
from webapp.audit.replication.chains import verify_chains
from webapp.audit.replication.queries import conflict_marks
from webapp.audit.tables import change_events, metadata
from webapp.domain import registry

cluster, nodes = cluster_fixtures(3, "ra")

# An entity whose text field is longer than any bound not taken from its declaration.
# Its table is kept off the shared metadata; only the memo cluster below has it.
memos = Entity(name="memo", table_name="repl_memos",
               fields={"body": Text(max_length=50_000, multiline=True)})
metadata.remove(memos.table)
with_memos = Registry()
for declared in (*registry, memos):
    with_memos.register(declared)


def shared_team(a: Node, b: Node, name: str = "Red") -> dict:  # type: ignore[type-arg]
    team = a.run(CreateRecord("team", {"slug": "red", "name": name})).record
    assert team is not None
    b.pull(a)
    return team


def test_a_batch_applied_twice_changes_nothing_the_second_time(nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = shared_team(a, b)
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Blue"}))
    first = b.pull(a)
    again = b.pull(a)
    assert (first.applied, first.skipped) == (1, 1)
    assert (again.applied, again.skipped) == (0, 2)
    assert b.record("team", team["id"])["name"] == "Blue"  # type: ignore[index]
    assert b.event_ids() == a.event_ids()


def test_an_event_already_contained_is_stored_but_not_applied(nodes: list[Node]) -> None:
    # (One origin's events join its chain in order, so the later event that contains
    # an earlier one comes from another node that had seen it.)
    a, b, c = nodes
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Two"}))
    b.pull(a)
    b.run(UpdateRecord("team", team["id"], 2, {"name": "Three"}))
    log = b.log()  # a's create and update, relayed, then b's update
    c.receive(b, [log[0], log[2]], log[2].seq or 0)  # the newest first ...
    report = c.receive(b, log[1:2], log[1].seq or 0)  # ... then the one it contains
    assert (report.applied, report.skipped) == (0, 1)
    assert c.record("team", team["id"])["name"] == "Three"  # type: ignore[index]
    assert c.event_ids() == b.event_ids()


@pytest.mark.parametrize("a_first", [True, False])
def test_lww_keeps_the_later_write_on_every_node_in_either_order(nodes: list[Node],
                                                                  a_first: bool) -> None:
    a, b, _ = nodes
    team = shared_team(a, b)
    project = a.run(CreateRecord("project", {"name": "P", "team_id": team["id"],
                                             "status": "active"})).record
    assert project is not None
    b.pull(a)
    first, second = (a, b) if a_first else (b, a)
    earlier = first.run(UpdateRecord("project", project["id"], 1, {"status": "done"})).event
    assert earlier is not None
    # Later in real time means a later millisecond: within the same one the two nodes'
    # counters decide, and the test would depend on how fast the machine is.
    while time.time_ns() // 1_000_000 <= unpack(earlier.hlc)[0]:
        time.sleep(0.001)
    loser_or_winner = second.run(UpdateRecord("project", project["id"], 1, {"status": "paused"}))
    sync(a, b)
    assert loser_or_winner.event is not None
    later = loser_or_winner.event  # the second writer's HLC is the greater one
    for node in (a, b):
        row = node.record("project", project["id"])
        assert row is not None and row["status"] == "paused"
        assert (row["hlc"], row["origin_node_id"]) == (later.hlc, later.origin_node_id)
        assert row["version"] == 3 and sum(row["vv"].values()) == 3
        assert list_conflicts(node.session) == []  # lww needs no admin
    marks = conflict_marks(a.session, [e.event_id for e in a.log()])
    assert {m.status for m in marks.values()} == {"auto"}
    assert sum(m.lost for m in marks.values()) == 1  # the loser is marked, and kept
    assert a.event_ids() == b.event_ids()


def test_a_manual_collision_is_one_open_conflict_with_the_same_id_on_both_nodes(
        nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = shared_team(a, b)
    ea = a.run(UpdateRecord("team", team["id"], 1, {"name": "From A"})).event
    eb = b.run(UpdateRecord("team", team["id"], 1, {"name": "From B"})).event
    assert ea is not None and eb is not None
    sync(a, b)
    found = [list_conflicts(n.session) for n in (a, b)]
    assert [len(f) for f in found] == [1, 1]
    assert found[0][0].conflict_id == found[1][0].conflict_id
    conflict = get_conflict(a.session, found[0][0].conflict_id, registry)
    assert conflict is not None and conflict.kind == "concurrent_update"
    assert {s.event_id for s in conflict.sides} == {ea.event_id, eb.event_id}
    assert conflict.ancestor is not None and conflict.ancestor["name"] == "Red"
    winner = max((ea, eb), key=lambda e: (e.hlc, e.origin_node_id))
    assert conflict.winner_event_id == winner.event_id
    for node in (a, b):  # the provisional winner is applied everywhere at once
        assert node.record("team", team["id"])["name"] == winner.params["name"]  # type: ignore[index]
    assert open_conflict_ids_for_events(b.session, [ea.event_id]) == {
        ea.event_id: conflict.conflict_id}


def test_three_writers_make_one_conflict_whatever_the_arrival_order(nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared_team(a, b)
    c.pull(a)
    for node, name in ((a, "A"), (b, "B"), (c, "C")):
        node.run(UpdateRecord("team", team["id"], 1, {"name": name}))
    a.pull(b), a.pull(c)  # a: sees b, then c
    c.pull(b), c.pull(a)  # c: sees b, then everything
    b.pull(c), b.pull(a)
    ids = [[x.conflict_id for x in list_conflicts(n.session)] for n in nodes]
    assert ids[0] == ids[1] == ids[2] and len(ids[0]) == 1
    assert len(list_conflicts(a.session, status="superseded")) == 1  # a's first {A, B}


def test_the_same_command_on_two_nodes_is_kept_twice(nodes: list[Node]) -> None:
    """Equal automatic idempotency keys from two origins are two events, not one."""
    a, b, _ = nodes
    team = shared_team(a, b)
    ea = a.run(DeleteRecord("team", team["id"], 1)).event
    eb = b.run(DeleteRecord("team", team["id"], 1)).event
    assert ea is not None and eb is not None and ea.idempotency_key == eb.idempotency_key
    sync(a, b)
    assert a.event_ids() == b.event_ids() >= {ea.event_id, eb.event_id}
    assert list_conflicts(a.session) == []  # two deletes agree
    assert a.snapshot() == b.snapshot()


def test_events_relayed_through_a_third_node_keep_their_origin(nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared_team(a, b)
    c.pull(b)  # c never talks to a
    rows = c.session.execute(sa.select(change_events.c.event_id, change_events.c.origin_node_id,
                                       change_events.c.hlc, change_events.c.hash)).all()
    c.session.rollback()
    original = a.log()[0]
    assert [tuple(r) for r in rows] == [(original.event_id, a.node_id, original.hlc,
                                         original.hash)]
    assert c.record("team", team["id"]) == a.record("team", team["id"])


def test_a_record_that_refers_to_one_not_arrived_yet_waits_and_is_applied_after(
        nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared_team(a, b)
    project = b.run(CreateRecord("project", {"name": "P", "team_id": team["id"],
                                             "status": "planned"})).record
    assert project is not None
    log = b.log()
    parked = c.receive(b, log[-1:], log[-1].seq or 0)  # only the project
    assert (parked.parked, parked.applied) == (1, 0)
    assert c.record("project", project["id"]) is None
    assert c.parked() == 1 and c.replicator.cursor(c.session, b.node_id) == log[-1].seq
    released = c.pull(a)  # the team arrives from another peer
    assert (released.applied, released.released) == (2, 1)
    assert c.record("project", project["id"]) == b.record("project", project["id"])
    assert c.parked() == 0
    assert c.pull(b).applied == 0  # the parked event is not applied twice


def test_restarted_nodes_keep_converging(nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = shared_team(a, b)
    a.start(), b.start()
    a.run(UpdateRecord("team", team["id"], 1, {"name": "After restart"}))
    b.pull(a)
    assert b.record("team", team["id"])["name"] == "After restart"  # type: ignore[index]
    assert b.replicator.cursor(b.session, a.node_id) == 2


def test_old_events_are_upcast_when_applied_and_stored_as_sent(nodes: list[Node]) -> None:
    a, b, _ = nodes
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    b.replicator = Replicator(team_schema_2(), b.replicator.clock, b.node_id)
    b.pull(a)
    assert b.record("team", team["id"])["name"] == "RED"  # type: ignore[index]
    stored = b.log()[0]
    assert stored.schema_version == 1 and stored.post_state["name"] == "Red"  # type: ignore[index]
    assert stored.hash == a.log()[0].hash


def test_every_origin_chain_is_complete_after_a_relay_and_breaks_are_found(
        nodes: list[Node]) -> None:
    a, b, c = nodes
    team = shared_team(a, b)
    b.run(UpdateRecord("team", team["id"], 1, {"name": "By b"}))
    a.run(CreateRecord("setting", {"key": "site.name", "value": "x"}))
    c.pull(b)  # a's first event arrives relayed; a's second not yet
    assert verify_chains(c.session) == []
    log = a.log()
    c.receive(a, log[1:], log[1].seq or 0)
    assert verify_chains(c.session) == []
    # Edit a stored event behind the system's back: its origin's chain shows it.
    c.session.execute(change_events.update().where(
        change_events.c.event_id == log[0].event_id).values(params='{"name":"Evil"}'))
    c.session.commit()
    [broken] = verify_chains(c.session)
    assert (broken.event_id, broken.origin_node_id) == (log[0].event_id, a.node_id)
    assert "does not match" in broken.problem


def test_a_text_as_long_as_its_field_allows_replicates_and_a_longer_one_is_refused(
        backend: str, tmp_path: Path) -> None:
    """What a node accepted from its own user never stops a sync: the bounds on a
    peer's texts come from the entity declarations, not from a fixed limit."""
    memo_cluster = Cluster(backend, tmp_path, 2, prefix="memo", registry=with_memos)
    try:
        a, b = memo_cluster.nodes
        body = ("Zoë 🚀\n" * 10_000)[:50_000]
        made = a.run(CreateRecord("memo", {"body": body})).event
        assert made is not None and made.post_state == {"id": made.record_id, "body": body}
        assert b.pull(a).applied == 1
        assert b.record("memo", made.record_id)["body"] == body  # type: ignore[index]
        longer = resealed(made, event_id=new_ulid(), post_state={**made.post_state,
                                                                 "body": body + "!"})
        with pytest.raises(PayloadError, match="memo.body must be at most 50000 characters"):
            b.receive(a, [longer], 2)
        assert b.replicator.cursor(b.session, a.node_id) == 1
    finally:
        memo_cluster.dispose()


def test_as_much_meta_as_a_command_may_carry_replicates(nodes: list[Node]) -> None:
    a, b, _ = nodes
    meta = {f"note{i}": i for i in range(300)}  # more names than a record has fields
    made = a.run(CreateRecord("team", {"slug": "red", "name": "Red"}, meta=meta)).event
    assert made is not None and made.meta == meta
    assert b.pull(a).applied == 1
    assert b.log()[0].meta == meta
