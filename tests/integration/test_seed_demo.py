"""`flask seed-demo`: four weeks of history from two real demo nodes (their events signed
by their own keys), several users, a resolved and an open conflict; verified like any
relayed history; and atomic: a failure partway leaves no history and no demo node."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.databases import BACKENDS
from tests.support.sync_nodes import Node, dispose, make_node
from webapp import demostory
from webapp.audit.hlc import unpack, wall_ms
from webapp.audit.replication import Replicator, list_conflicts
from webapp.audit.tables import change_events, nodes
from webapp.extensions import db

DAY_MS = 86_400_000


@pytest.fixture(params=BACKENDS)
def node(request: pytest.FixtureRequest, tmp_path: Path):
    made = make_node(request.param, "local", tmp_path)
    yield made
    dispose(made)


def _events(node: Node) -> list[sa.Row]:
    return node.query(sa.select(change_events.c.hlc, change_events.c.user_id,
                                change_events.c.origin_node_id, change_events.c.signature))


def test_seed_demo_makes_a_lived_in_history_that_verifies(node: Node) -> None:
    runner = node.app.test_cli_runner()
    done = runner.invoke(args=["seed-demo"])
    assert done.exit_code == 0, done.output
    assert "[5/5] applying" in done.output and "frank" in done.output
    events = _events(node)
    times = [unpack(e.hlc)[0] for e in events]
    assert max(times) <= wall_ms() and max(times) - min(times) > 21 * DAY_MS
    assert len({e.user_id for e in events}) >= 6
    origins = {e.origin_node_id for e in events}
    assert len(origins) == 3  # this node (its admin) and the two demo nodes
    names = {r.name: r.public_key for r in node.query(sa.select(nodes.c.name,
                                                                nodes.c.public_key))}
    assert names["hq"] and names["eu"] and names["hq"] != names["eu"]  # two pinned keys
    with node.app.app_context():
        assert len(list_conflicts(db.session, "open", limit=100)) == 1
        assert len(list_conflicts(db.session, "resolved", limit=100)) == 1
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "no break found" in verified.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "nothing else to do" in again.output
    assert len(_events(node)) == len(events)


@pytest.mark.parametrize("where", ["story", "apply"])
def test_a_failure_partway_leaves_nothing_half_seeded(node: Node, monkeypatch, where) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    if where == "story":
        monkeypatch.setattr(demostory.Story, "open_conflict", boom)
    else:  # after the demo nodes' keys were pinned here: the batch itself fails
        monkeypatch.setattr(Replicator, "apply_batch", _failing_after_pins(node))
    before = len(_events(node))
    failed = node.app.test_cli_runner().invoke(args=["seed-demo"])
    assert failed.exit_code != 0
    events = _events(node)
    assert len(events) == before + 1  # only the first admin, made before the history
    assert {r.name for r in node.query(sa.select(nodes.c.name))} == {"local"}


def _failing_after_pins(node: Node):
    real = Replicator.apply_batch

    def apply(self, session, source, events, upto):
        if self.node_id == node.node_id:
            raise RuntimeError("disk full")
        return real(self, session, source, events, upto)
    return apply
