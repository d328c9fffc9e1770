"""A scripted three-node scenario on every backend: a ring (each node pulls only from
its left neighbour) through collisions of all kinds, a dependency that arrives late, a
restart and two resolutions. Every node ends with the same state, and the conflicts
resolved on one node are closed on all."""

from __future__ import annotations

from pathlib import Path

from tests.integration.replication_cluster import Cluster, Node
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.replication import list_conflicts, resolve_conflict


def ring(nodes: list[Node], rounds: int = 3) -> None:
    for _ in range(rounds):
        for index, node in enumerate(nodes):
            left = nodes[index - 1]
            node.pull(left, node.replicator.cursor(node.session, left.node_id))


def same_everywhere(nodes: list[Node]) -> None:
    every = set().union(*(n.event_ids() for n in nodes))
    first = nodes[0].snapshot()
    for node in nodes:
        assert node.event_ids() == every and node.parked() == 0
        assert node.snapshot() == first


def version(node: Node, entity: str, record_id: str) -> int:
    found = node.record(entity, record_id)
    assert found is not None
    return int(found["version"])


def test_a_ring_of_three_nodes_converges_through_every_kind_of_collision(
        backend: str, tmp_path: Path) -> None:
    cluster = Cluster(backend, tmp_path, 3, prefix="scen")
    try:
        a, b, c = nodes = cluster.nodes
        red = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
        blue = b.run(CreateRecord("team", {"slug": "blue", "name": "Blue"})).record
        assert red is not None and blue is not None
        ring(nodes)
        # Unique values taken on two nodes, on a manual and on an lww entity.
        a.run(CreateRecord("user", {"username": "bob", "email": "bob@a.example", "role": "admin"}))
        c.run(CreateRecord("user", {"username": "bob", "email": "bob@c.example", "role": "viewer"}))
        b.run(CreateRecord("setting", {"key": "mail.host", "value": "b"}))
        c.run(CreateRecord("setting", {"key": "mail.host", "value": "c"}))
        # Three writers on one manual record, one of them deleting it.
        a.run(UpdateRecord("team", red["id"], 1, {"name": "Red by a"}))
        b.run(UpdateRecord("team", red["id"], 1, {"description": "b was here"}))
        c.run(DeleteRecord("team", red["id"], 1))
        # Concurrent lww edits of a project.
        project = b.run(CreateRecord("project", {"name": "P", "team_id": blue["id"],
                                                 "status": "planned"})).record
        assert project is not None
        ring(nodes, 1)
        b.run(UpdateRecord("project", project["id"], version(b, "project", project["id"]),
                           {"status": "active"}))
        c.run(UpdateRecord("project", project["id"], version(c, "project", project["id"]),
                           {"status": "done"}))
        # A project whose team c has not seen: c must keep it waiting.
        green = b.run(CreateRecord("team", {"slug": "green", "name": "Green"})).record
        assert green is not None
        late = b.run(CreateRecord("project", {"name": "Late", "team_id": green["id"],
                                              "status": "planned"})).event
        assert late is not None and late.seq is not None
        assert c.receive(b, [late], 0).parked == 1
        c.start()
        ring(nodes)
        same_everywhere(nodes)
        found = sorted((x.entity, x.kind) for x in list_conflicts(a.session))
        assert found == [("setting", "unique_collision"), ("team", "update_delete"),
                         ("user", "unique_collision")]
        # Resolutions on different nodes close their conflicts everywhere.
        for node, conflict in zip((a, b, c), list_conflicts(a.session), strict=True):
            values = {"name": "Red again"} if conflict.kind == "update_delete" else {}
            resolve_conflict(node.auditor, node.session, conflict.conflict_id, values,
                             conflict.version)
        ring(nodes)
        same_everywhere(nodes)
        assert [list_conflicts(n.session) for n in nodes] == [[], [], []]
    finally:
        cluster.dispose()
