"""Relayed events keep their origin identity, so a chain, a star and a ring of nodes all
converge, and an echo of a node's own events back to it is skipped, never re-applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.tables import change_events as ev
from webapp.audit.tables import nodes
from webapp.domain import registry


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[list[Node]]:
    nodes = [make_node("sqlite", name, tmp_path) for name in ("ann", "bob", "cat")]
    route_in_process(*nodes)
    yield nodes
    for node in nodes:
        dispose(node)


def state(node: Node) -> dict[str, list[tuple[object, ...]]]:
    return {e.name: [tuple(r) for r in node.query(sa.select(e.table).order_by(e.table.c.id))]
            for e in registry}


def events(node: Node) -> set[tuple[str, str]]:
    return {(r.event_id, r.origin_node_id)
            for r in node.query(sa.select(ev.c.event_id, ev.c.origin_node_id))}


def test_a_chain_relays_events_with_their_origin(trio: list[Node]) -> None:
    ann, bob, cat = trio
    link(ann, bob)
    link(bob, cat)  # cat never talks to ann
    made = ann.run(CreateRecord("team", {"slug": "red", "name": "Red"}))
    assert bob.sync("ann").ok and cat.sync("bob").ok
    relayed = cat.query(sa.select(ev.c.origin_node_id, ev.c.hash).where(
        ev.c.event_id == made.event.event_id))
    assert relayed == [(ann.node_id, made.event.hash)]
    # cat knows the origin by the name bob told it, so its pages show "ann", not an id.
    assert cat.query(sa.select(nodes.c.name).where(nodes.c.node_id == ann.node_id)) == [("ann",)]
    # Echoes: bob pulls cat's log, which holds ann's event; nothing new is applied.
    assert bob.sync("cat").ok
    assert bob.event_count() == 1
    assert ann.sync("bob").ok and ann.event_count() == 1


@pytest.mark.parametrize("shape", ["star", "ring"])
def test_every_topology_converges(trio: list[Node], shape: str) -> None:
    ann, bob, cat = trio
    if shape == "star":
        link(ann, bob)
        link(cat, bob)
        pulls = [(ann, "bob"), (cat, "bob"), (bob, "ann"), (bob, "cat")]
    else:
        link(ann, bob)
        link(bob, cat)
        link(cat, ann)
        pulls = [(ann, "cat"), (bob, "ann"), (cat, "bob")]  # each pulls one way round
    teams = {}
    for node, slug in ((ann, "a"), (bob, "b"), (cat, "c")):
        teams[slug] = node.run(CreateRecord("team", {"slug": slug, "name": slug})).record
    bob.run(CreateRecord("setting", {"key": "only.bob", "value": "1"}))
    for _ in range(3):
        for node, peer in pulls:
            assert node.sync(peer).ok, (node.name, peer)
    ann.run(UpdateRecord("team", teams["c"]["id"], 1, {"description": "seen by ann"}))
    for _ in range(3):
        for node, peer in pulls:
            assert node.sync(peer).ok
    assert state(ann) == state(bob) == state(cat)
    assert events(ann) == events(bob) == events(cat) and len(events(ann)) == 5
