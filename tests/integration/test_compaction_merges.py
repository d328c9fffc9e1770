"""No concurrent change is lost across compaction (SPEC 6): a node's edit made offline on
an old version, arriving after its peer compacted the events before it, still merges
field by field against the right common ancestor (the record's base event), on the node
that compacted and on a node bootstrapped from its snapshot. Without the base, the merge
ran against nothing, every field counted as changed on both sides, and lww kept the
later side's stale value of the field the late edit changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result

from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.compaction.tables import compacted_records
from webapp.audit.tables import change_events as ev
from webapp.audit.tables import tombstones
from webapp.domain import registry

projects = registry.get("project").table
STATE = sa.select(projects.c.id, projects.c.name, projects.c.budget, projects.c.description,
                  projects.c.status, projects.c.vv).order_by(projects.c.id)


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """alpha (on `backend`) and beta (SQLite), peers of each other."""
    a = make_node(backend, "alpha", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "alpha"))
    b = make_node("sqlite", "beta", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "beta"))
    link(a, b)
    route_in_process(a, b)
    yield a, b
    dispose(a)
    dispose(b)


def cli(node: Node, *args: str) -> Result:
    return node.app.test_cli_runner().invoke(args=list(args))


def both_ways(a: Node, b: Node) -> None:
    for node, peer in ((a, b.name), (b, a.name), (a, b.name), (b, a.name)):
        result = node.sync(peer)
        assert result.ok, result.error


def offline_edit_then_compaction(a: Node, b: Node) -> str:
    """alpha makes a project, beta has it; beta edits its budget offline on that version;
    alpha edits its description five times, snapshots and compacts what beta has
    acknowledged. Returns the project's id."""
    team = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"})).record
    project = a.run(CreateRecord("project", {"name": "Apollo", "team_id": team["id"],
                                             "status": "planned", "budget": "10k",
                                             "description": "v0"})).record
    both_ways(a, b)  # beta has the project and has said so; alpha has pulled beta
    b.run(UpdateRecord("project", project["id"], 1, {"budget": "20k"}))  # offline
    for n in range(1, 6):
        a.run(UpdateRecord("project", project["id"], n, {"description": f"v{n}"}))
    assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
    result = cli(a, "audit", "compact", "--quiet")
    assert result.exit_code == 0, result.output
    assert "removed 2 events through seq 2" in result.output
    gone = a.query(sa.select(ev.c.seq).where(ev.c.record_id == project["id"],
                                             ev.c.op == "created"))
    assert gone == []  # the version beta edited is no longer in alpha's log
    [base] = a.query(sa.select(compacted_records.c.op).where(
        compacted_records.c.record_id == project["id"]))
    assert base.op == "created"
    return str(project["id"])


def test_a_late_concurrent_edit_keeps_both_changes_after_compaction(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    project_id = offline_edit_then_compaction(a, b)
    both_ways(a, b)  # beta returns
    for node in (a, b):
        [row] = node.query(STATE)
        assert (row.id, row.budget, row.description) == (project_id, "20k", "v5"), node.name
    assert a.query(STATE) == b.query(STATE)
    for node in (a, b):
        verified = cli(node, "audit", "verify", "--quiet")
        assert verified.exit_code == 0, verified.output


def test_a_bootstrapped_node_merges_a_late_concurrent_edit_against_the_base(
        pair: tuple[Node, Node], tmp_path: Path) -> None:
    a, b = pair
    offline_edit_then_compaction(a, b)
    c = make_node("sqlite", "gamma", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "gamma"))
    try:
        link(a, c)
        link(b, c)
        route_in_process(a, b, c)
        done = cli(c, "sync", "--peer", "alpha", "--bootstrap")
        assert done.exit_code == 0, done.output
        assert "from its compacted log (through seq 2)" in done.output
        [row] = c.query(STATE)
        assert (row.budget, row.description) == ("10k", "v5")
        assert c.sync("beta").ok  # beta's late edit, made on the version alpha compacted
        [row] = c.query(STATE)
        assert (row.budget, row.description) == ("20k", "v5")
        both_ways(a, b)
        assert c.sync("alpha").ok and c.sync("beta").ok
        assert a.query(STATE) == b.query(STATE) == c.query(STATE)
        verified = cli(c, "audit", "verify", "--quiet")
        assert verified.exit_code == 0, verified.output
    finally:
        dispose(c)


def test_a_tombstone_goes_once_every_peer_has_seen_the_delete(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    kept = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"})).record
    gone = a.run(CreateRecord("team", {"slug": "old", "name": "Old"})).record
    a.run(DeleteRecord("team", gone["id"], 1))
    assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
    first = cli(a, "audit", "compact", "--quiet")  # beta has not seen the delete yet
    assert "would remove no events" in first.output
    assert [r.record_id for r in a.query(sa.select(tombstones.c.record_id))] == [gone["id"]]
    both_ways(a, b)
    assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
    result = cli(a, "audit", "compact", "--quiet")
    assert result.exit_code == 0, result.output
    assert "1 tombstones every node has seen removed" in result.output
    assert a.query(sa.select(tombstones.c.record_id)) == []
    bases = a.query(sa.select(compacted_records.c.record_id))
    assert [r.record_id for r in bases] == [kept["id"]]
    assert cli(a, "audit", "verify", "--quiet").exit_code == 0


def test_a_live_conflict_keeps_all_its_sides_events(pair: tuple[Node, Node]) -> None:
    """alpha and beta rename the same team concurrently (manual policy: an open
    conflict). Both have acknowledged everything, yet compaction keeps every event of
    that record from its first on (the cut stays below it), so the conflict's sides and
    their common ancestor stay readable; the dry run says why."""
    a, b = pair
    team = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"})).record
    both_ways(a, b)
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ops (alpha)"}))
    b.run(UpdateRecord("team", team["id"], 1, {"name": "Ops (beta)"}))
    both_ways(a, b)
    assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
    result = cli(a, "audit", "compact", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would remove no events" in result.output
    assert f"kept for concurrent versions of team {team['id']} (from seq 1, not merged yet)" \
        in result.output
    sides = a.query(sa.select(ev.c.event_id).where(ev.c.record_id == team["id"]))
    assert len(sides) == 3  # the ancestor and both sides
