"""`flask audit compact`: only what the latest snapshot covers and every peer has
acknowledged goes (a peer behind keeps its events; a peer whose cursor is unknown
blocks), the dry run says what would go per entity and origin and which peer keeps the
rest, the remaining chain still verifies from where it was cut, and a peer behind
comes back with its own unsent events, which conflict as they would have. With a
retention that overrides acknowledgement, a peer behind is told it needs a snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result

from tests.support.sync_nodes import Node, add_peer, dispose, link, make_node, route_in_process
from webapp import compact_cli
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.compaction.tables import compacted_records, compaction_origins
from webapp.audit.replication.tables import conflicts
from webapp.audit.tables import change_events as ev
from webapp.domain import registry
from webapp.sync.signing import new_secret

teams = registry.get("team").table


@pytest.fixture
def trio(backend: str, tmp_path: Path) -> Iterator[tuple[Node, Node, Node]]:
    """alpha (on `backend`) linked to beta and gamma (SQLite); each has a snapshot dir."""
    nodes = tuple(make_node(b, name, tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / name))
                  for b, name in ((backend, "alpha"), ("sqlite", "beta"), ("sqlite", "gamma")))
    a, b, g = nodes
    link(a, b)
    link(a, g)
    route_in_process(*nodes)
    yield a, b, g
    for node in nodes:
        dispose(node)


def cli(node: Node, *args: str) -> Result:
    return node.app.test_cli_runner().invoke(args=["audit", *args])


def pull(node: Node, peer: str) -> None:
    """Pull twice: a peer's acknowledgement is the `after` of its latest request."""
    assert node.sync(peer).ok and node.sync(peer).ok


def seqs(node: Node) -> list[int]:
    return [r.seq for r in node.query(sa.select(ev.c.seq).order_by(ev.c.seq))]


@pytest.fixture
def gamma_behind(trio: tuple[Node, Node, Node]) -> tuple[Node, Node, Node, str]:
    """alpha's log of 5 events: gamma has pulled the first 3, beta all 5; a snapshot
    covers all 5. Returns the nodes and the team gamma and alpha both know."""
    a, b, g = trio
    team = a.run(CreateRecord("team", {"slug": "ops", "name": "Operations"})).record
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ops"}))
    a.run(CreateRecord("setting", {"key": "site.name", "value": "x"}))
    pull(g, "alpha")
    a.run(UpdateRecord("team", team["id"], 2, {"name": "Ops (alpha)"}))
    a.run(CreateRecord("team", {"slug": "web", "name": "Web"}))
    pull(b, "alpha")
    assert cli(a, "snapshot", "--quiet").exit_code == 0
    return a, b, g, str(team["id"])


def test_no_snapshot_no_compaction(trio: tuple[Node, Node, Node]) -> None:
    a, _, _ = trio
    a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"}))
    result = cli(a, "compact")
    assert result.exit_code == 1 and "no snapshot yet" in result.output
    assert seqs(a) == [1]


def test_the_dry_run_says_what_goes_and_which_peer_keeps_the_rest(
        gamma_behind: tuple[Node, Node, Node, str]) -> None:
    a, _, _, _ = gamma_behind
    result = cli(a, "compact", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "covers this log through seq 5" in out
    assert "peer gamma: acknowledged seq 3: it keeps the events after that" in out
    assert "would remove 3 events:" in out
    assert f"  team                 from alpha ({a.node_id}): 2" in out
    assert f"  setting              from alpha ({a.node_id}): 1" in out
    assert (f"kept for peer gamma (acknowledged seq 3): team from alpha ({a.node_id}): 2"
            in out)
    assert "nothing removed (dry run)" in out and seqs(a) == [1, 2, 3, 4, 5]


def test_a_peer_whose_cursor_is_unknown_blocks_compaction(
        gamma_behind: tuple[Node, Node, Node, str]) -> None:
    a, _, _, _ = gamma_behind
    add_peer(a, "delta", "http://delta.test", new_secret())  # never pulled from alpha
    result = cli(a, "compact")
    assert result.exit_code == 0, result.output
    assert "peer delta: its cursor on this log is unknown" in result.output
    assert "would remove no events" in result.output and "nothing to remove" in result.output
    assert seqs(a) == [1, 2, 3, 4, 5]


def test_compaction_keeps_what_a_peer_behind_needs_and_the_chain_verifies(
        gamma_behind: tuple[Node, Node, Node, str]) -> None:
    a, _, g, team_id = gamma_behind
    result = cli(a, "compact", "--quiet")
    assert result.exit_code == 0, result.output
    assert "removed 3 events through seq 3" in result.output
    assert seqs(a) == [4, 5]  # gamma has not acknowledged 4 and 5: they stay
    [start] = a.query(sa.select(compaction_origins))
    assert start.removed == 3
    notes = {r.record_id: r for r in a.query(sa.select(compacted_records))}
    assert notes[team_id].op == "updated" and '"Ops"' in notes[team_id].post_state
    verified = cli(a, "verify", "--quiet")
    assert verified.exit_code == 0, verified.output
    assert "2 events of 1 origin(s)" in verified.output
    again = cli(a, "compact")  # nothing more goes until gamma acknowledges
    assert "would remove no events" in again.output and seqs(a) == [4, 5]

    # gamma comes back with its own unsent rename of the team alpha renamed meanwhile
    g.run(UpdateRecord("team", team_id, 2, {"name": "Ops (gamma)"}))
    pull(g, "alpha")  # its cursor (3) is past what was compacted: it goes on incrementally
    assert a.sync("gamma").ok
    for node in (a, g):
        open_ = node.query(sa.select(conflicts.c.record_id).where(conflicts.c.status == "open"))
        assert [r.record_id for r in open_] == [team_id]
        assert [r.slug for r in node.query(sa.select(teams.c.slug).order_by(teams.c.slug))] \
            == ["ops", "web"]
    assert g.query(sa.select(ev.c.event_id).where(ev.c.origin_node_id == g.node_id))
    assert cli(a, "verify", "--quiet").exit_code == 0


def test_retention_overrides_acknowledgement_and_a_peer_behind_needs_a_snapshot(
        gamma_behind: tuple[Node, Node, Node, str], monkeypatch: pytest.MonkeyPatch) -> None:
    a, _, g, _ = gamma_behind
    a.app.config["HINDSIGHT_RETENTION_DAYS"] = 1
    later = compact_cli.now_ms() + 2 * compact_cli.DAY_MS
    monkeypatch.setattr(compact_cli, "now_ms", lambda: later)  # the whole log is 2 days old
    result = cli(a, "compact")
    assert result.exit_code == 0, result.output
    assert "retention: 1 days" in result.output and "removed 5 events" in result.output
    assert seqs(a) == [] and cli(a, "verify", "--quiet").exit_code == 0
    refused = g.sync("alpha")
    assert not refused.ok and "snapshot required" in str(refused.error)
    assert "compacted through seq 5" in str(refused.error)


def test_a_new_node_bootstrapped_from_a_snapshot_converges_with_the_others(
        gamma_behind: tuple[Node, Node, Node, str], tmp_path: Path) -> None:
    a, b, g, team_id = gamma_behind
    assert "removed 3 events" in cli(a, "compact", "--quiet").output
    pull(g, "alpha")  # gamma acknowledges the rest: a second compaction takes it
    assert "removed 2 events through seq 5" in cli(a, "compact", "--quiet").output
    [note] = a.query(sa.select(compacted_records).where(compacted_records.c.record_id == team_id))
    assert note.seq == 4 and '"Ops (alpha)"' in note.post_state
    d = make_node("sqlite", "delta", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "delta"))
    try:
        link(a, d)
        route_in_process(a, b, g, d)
        refused = d.sync("alpha")  # its cursor (0) predates what was compacted
        assert not refused.ok and "snapshot required" in str(refused.error)
        runner = d.app.test_cli_runner()
        done = runner.invoke(args=["sync", "--peer", "alpha", "--bootstrap"])
        assert done.exit_code == 0, done.output
        assert "bootstrapped from alpha's snapshot" in done.output
        assert "3 records and 0 tombstones from its compacted log (through seq 5)" in done.output
        assert "cursor 5 of 5 (caught up)" in done.output
        a.run(UpdateRecord("team", team_id, 3, {"name": "Ops after"}))
        assert d.sync("alpha").ok
        d.run(CreateRecord("team", {"slug": "db", "name": "Databases"}))
        pull(a, "delta")
        assert g.sync("alpha").ok
        state = sa.select(teams.c.id, teams.c.name, teams.c.version).order_by(teams.c.id)
        assert a.query(state) == d.query(state) == g.query(state)
        assert len(a.query(state)) == 3
        for node in (a, d):
            verified = node.app.test_cli_runner().invoke(args=["audit", "verify", "--quiet"])
            assert verified.exit_code == 0, verified.output
        again = runner.invoke(args=["sync", "--peer", "alpha", "--bootstrap"])
        assert again.exit_code == 0, again.output  # as a returning node
        # alpha's latest snapshot predates delta's team: delta keeps and replays it
        assert "kept and replayed 1 events" in again.output
        assert a.query(state) == d.query(state)
    finally:
        dispose(d)


def test_a_snapshot_ahead_of_the_database_is_refused(
        gamma_behind: tuple[Node, Node, Node, str]) -> None:
    """A database restored from a backup older than the snapshot: its seqs would name
    other events than those the snapshot covers, so nothing is removed."""
    a, _, _, _ = gamma_behind
    with a.app.app_context():
        from webapp.extensions import db
        db.session.execute(ev.delete().where(ev.c.seq > 3))
        db.session.commit()
    result = cli(a, "compact")
    assert result.exit_code == 1 and "is ahead of this database's log" in result.output
    assert seqs(a) == [1, 2, 3]


def test_a_returning_node_counts_its_activity_once(
        gamma_behind: tuple[Node, Node, Node, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The home page's roll-up had counted gamma's first 3 events; gamma starts again from
    alpha's snapshot and pulls the rest back under new seqs: each event of its log is
    counted once, not once before and again after."""
    from webapp.activity import rollup
    from webapp.activity.tables import activity_counts
    from webapp.extensions import db

    a, _, g, _ = gamma_behind
    g.run(CreateRecord("team", {"slug": "db", "name": "Databases"}))  # unsent

    def counted_and_held() -> tuple[int, int]:
        with g.app.app_context():
            rollup.refresh(db.session)
        total = g.query(sa.select(sa.func.sum(activity_counts.c.count))
                        .where(activity_counts.c.dim == "all"))[0][0]
        return int(total or 0), len(seqs(g))

    assert counted_and_held() == (4, 4)
    a.app.config["HINDSIGHT_RETENTION_DAYS"] = 1
    later = compact_cli.now_ms() + 2 * compact_cli.DAY_MS
    monkeypatch.setattr(compact_cli, "now_ms", lambda: later)
    assert cli(a, "compact", "--quiet").exit_code == 0
    done = g.app.test_cli_runner().invoke(args=["sync", "--peer", "alpha", "--bootstrap"])
    assert done.exit_code == 0, done.output
    assert g.sync("alpha").ok
    total, held = counted_and_held()
    assert total == held and held >= 1


def test_a_peer_behind_returns_after_compaction_with_its_unsent_events(
        gamma_behind: tuple[Node, Node, Node, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Retention took what gamma had not fetched. gamma renamed the team on the version
    it had (alpha renamed it meanwhile) and made a team of its own, unsent. It is told
    it needs a snapshot, starts again from alpha's, keeps and replays its own events:
    the rename collides with alpha's (an open conflict, the same on both nodes, its
    ancestor the version gamma edited), the new team survives, and both verify."""
    a, b, g, team_id = gamma_behind
    g.run(UpdateRecord("team", team_id, 2, {"name": "Ops (gamma)"}))
    g.run(CreateRecord("team", {"slug": "db", "name": "Databases"}))
    a.app.config["HINDSIGHT_RETENTION_DAYS"] = 1
    later = compact_cli.now_ms() + 2 * compact_cli.DAY_MS
    monkeypatch.setattr(compact_cli, "now_ms", lambda: later)
    result = cli(a, "compact", "--quiet")
    assert result.exit_code == 0 and "removed 5 events" in result.output, result.output
    refused = g.sync("alpha")
    assert not refused.ok and "snapshot required" in str(refused.error)
    done = g.app.test_cli_runner().invoke(args=["sync", "--peer", "alpha", "--bootstrap"])
    assert done.exit_code == 0, done.output
    assert "kept and replayed 2 events of this node's own that alpha had not seen " \
           "(1 collided with changes made meanwhile)" in done.output
    assert a.sync("gamma").ok
    assert g.sync("alpha").ok and a.sync("gamma").ok
    state = sa.select(teams.c.id, teams.c.slug, teams.c.name, teams.c.vv).order_by(teams.c.id)
    assert a.query(state) == g.query(state)
    assert sorted(r.slug for r in a.query(state)) == ["db", "ops", "web"]
    for node in (a, g):
        open_ = node.query(sa.select(conflicts.c.conflict_id, conflicts.c.record_id,
                                     conflicts.c.disputed).where(conflicts.c.status == "open"))
        assert [(r.record_id, r.disputed) for r in open_] == [(team_id, '["name"]')], node.name
    assert a.query(sa.select(conflicts.c.conflict_id)) == g.query(
        sa.select(conflicts.c.conflict_id))
    for node in (a, g):
        verified = cli(node, "verify", "--quiet")
        assert verified.exit_code == 0, verified.output
