"""Defects a review of compaction found (SPEC 7), each reproduced: a bootstrap racing a
web worker, a relayed log missing what came in through bases, an open unique collision
compacted away, a late edit merged against nothing, and a peer serving stale bases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result

import webapp.sync.bootstrap as sync_bootstrap
from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from webapp import compact_cli
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.replication.tables import conflicts
from webapp.audit.tables import change_events as ev
from webapp.domain import registry

teams = registry.get("team").table
projects = registry.get("project").table
STATE = sa.select(projects.c.id, projects.c.name, projects.c.budget, projects.c.description,
                  projects.c.status, projects.c.vv).order_by(projects.c.id)
BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def cli(node: Node, *args: str) -> Result:
    return node.app.test_cli_runner().invoke(args=list(args))


def nodes(backend: str, tmp_path: Path, *names: str) -> list[Node]:
    """Nodes named `names`, the first on `backend`, the rest on SQLite."""
    return [make_node(backend if i == 0 else "sqlite", name, tmp_path,
                      HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / name))
            for i, name in enumerate(names)]


@BOTH
def test_a_command_committed_while_a_node_bootstraps_is_not_lost(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A web worker's command racing `sync --bootstrap` of a returning node waits for
    it and lands after: it is never deleted unseen."""
    g, a = nodes(backend, tmp_path, "gamma", "alpha")
    try:
        link(a, g)
        route_in_process(a, g)
        a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"}))
        assert g.sync("alpha").ok
        g.run(CreateRecord("team", {"slug": "g1", "name": "gamma's unsent"}))
        assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
        real: Callable[..., Any] = sync_bootstrap.start_again
        out: dict[str, Any] = {}

        def worker() -> None:
            try:
                out["done"] = g.run(CreateRecord("team", {"slug": "w", "name": "a worker's"}))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                out["error"] = exc

        thread = threading.Thread(target=worker)

        def racing(*args: Any) -> Any:
            thread.start()
            thread.join(2)  # the worker commits now if nothing holds it back
            return real(*args)

        monkeypatch.setattr(sync_bootstrap, "start_again", racing)
        done = cli(g, "sync", "--peer", "alpha", "--bootstrap")
        thread.join(60)
        assert done.exit_code == 0, done.output
        slugs = {row.slug for row in g.query(sa.select(teams.c.slug))}
        assert {"ops", "g1"} <= slugs
        # The node lock makes the worker wait for the bootstrap and commit after it
        # (a failure would let this test pass without the race ever being run).
        assert "done" in out, out.get("error")
        assert "w" in slugs, "the worker's committed team vanished"
    finally:
        dispose(a)
        dispose(g)


def _bootstrap(node: Node, peer: Node) -> None:
    assert cli(peer, "audit", "snapshot", "--quiet").exit_code == 0
    done = cli(node, "sync", "--peer", peer.name, "--bootstrap")
    print(done.output, node.name, node.node_id, peer.name, peer.node_id)
    assert done.exit_code == 0, done.output


def _compact_by_retention(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshot and compact `node` (which notes when its events arrived), then, with a
    one-day retention and its clock two days on, compact again: everything it holds is
    past retention, acknowledged or not."""
    assert cli(node, "audit", "snapshot", "--quiet").exit_code == 0
    assert cli(node, "audit", "compact").exit_code == 0
    node.app.config["HINDSIGHT_RETENTION_DAYS"] = 1
    later = compact_cli.now_ms() + 2 * compact_cli.DAY_MS
    monkeypatch.setattr(compact_cli, "now_ms", lambda: later)
    assert cli(node, "audit", "compact").exit_code == 0


def _converged(members: tuple[Node, ...], links: tuple[tuple[Node, Node], ...],
               expected: tuple[str, str, str]) -> None:
    """Two rounds of pulls along `links` (both ways), then every node holds the project
    with (budget, status, description) == expected."""
    for _ in range(2):
        for node, peer in links:
            _sync(node, peer)
            _sync(peer, node)
    for node in members:
        [row] = node.query(STATE)
        assert (row.budget, row.status, row.description) == expected, node.name


def _sync(node: Node, peer: Node) -> None:
    """Pull `peer`; when it says a snapshot is required, bootstrap from it and pull."""
    result = node.sync(peer.name)
    if not result.ok and "snapshot required" in str(result.error):
        _bootstrap(node, peer)
        result = node.sync(peer.name)
    assert result.ok, result.error


@BOTH
def test_a_node_restarted_from_a_snapshot_does_not_relay_an_incomplete_log(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alpha-beta and beta-gamma. beta returns after alpha compacted by retention and
    starts again from alpha's snapshot: alpha's edit reaches beta in a base, never in
    beta's log. gamma's cursor on beta's log predates that, so gamma must be told to take
    a snapshot; going on from its cursor it never got alpha's edit."""
    b, a, g = nodes(backend, tmp_path, "beta", "alpha", "gamma")
    try:
        link(a, b)
        link(b, g)
        route_in_process(a, b, g)
        team = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"})).record
        p = a.run(CreateRecord("project", {"name": "Apollo", "team_id": team["id"],
                                           "status": "planned", "budget": "10k",
                                           "description": "v0"})).record
        assert b.sync("alpha").ok and g.sync("beta").ok
        g.run(UpdateRecord("project", p["id"], 1, {"budget": "20k"}))
        assert b.sync("gamma").ok
        b.run(UpdateRecord("project", p["id"], 2, {"status": "active"}))
        a.run(UpdateRecord("project", p["id"], 1, {"description": "v1"}))
        _compact_by_retention(a, monkeypatch)
        refused = b.sync("alpha")
        assert not refused.ok and "snapshot required" in str(refused.error)
        _bootstrap(b, a)
        _converged((a, b, g), ((a, b), (b, g)), ("20k", "active", "v1"))
    finally:
        for node in (a, b, g):
            dispose(node)


@BOTH
def test_a_bootstrapped_node_tells_a_peer_with_history_to_take_its_snapshot(
        backend: str, tmp_path: Path) -> None:
    """A brand-new node bootstrapped from alpha holds alpha's history as bases only: a
    peer that already has history and starts pulling it from seq 0 is told "snapshot
    required" instead of getting the events after the bases alone."""
    n, a, c = nodes(backend, tmp_path, "newbie", "alpha", "carol")
    try:
        link(a, n)
        link(n, c)
        route_in_process(a, n, c)
        a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"}))
        c.run(CreateRecord("team", {"slug": "c", "name": "carol's"}))
        _bootstrap(n, a)
        refused = c.sync("newbie")
        assert not refused.ok and "snapshot required" in str(refused.error)
    finally:
        for node in (a, n, c):
            dispose(node)


@BOTH
def test_the_source_of_a_snapshot_is_spared_only_until_it_starts_again(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """beta starts again from alpha's snapshot, so alpha (which had every base it sent)
    may go on pulling beta's log. Once alpha itself starts again from gamma's snapshot,
    it no longer holds what beta has only as bases (delta's team): it must be told to
    take beta's snapshot, not go on from a cursor and silently lack delta's team."""
    a, b, c, d = nodes(backend, tmp_path, "alpha", "beta", "gamma", "delta")
    try:
        link(a, b)
        link(b, d)
        link(a, c)
        route_in_process(a, b, c, d)
        d.run(CreateRecord("team", {"slug": "x", "name": "delta's team"}))
        assert b.sync("delta").ok and a.sync("beta").ok
        _compact_by_retention(a, monkeypatch)
        _bootstrap(b, a)  # beta holds delta's team only as a base now
        assert a.sync("beta").ok  # alpha, the source, is spared
        c.run(CreateRecord("team", {"slug": "y", "name": "gamma's team"}))
        _bootstrap(a, c)  # alpha starts again: delta's team is gone from it
        refused = a.sync("beta")
        assert not refused.ok and "snapshot required" in str(refused.error)
        _sync(a, b)  # alpha starts again from beta's snapshot: delta's team comes back
        _sync(a, c)  # and gamma's from gamma (a return keeps only alpha's own events)
        assert {r.slug for r in a.query(sa.select(teams.c.slug))} == {"x", "y"}
    finally:
        for node in (a, b, c, d):
            dispose(node)


@BOTH
def test_a_node_that_compacted_its_own_unsent_events_is_not_restarted_from_a_peer(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """beta's own events were compacted by retention before any peer had them: only its
    bases hold them. Starting again from alpha's snapshot would empty those bases and
    keep none of them, so the bootstrap is refused with the reason, and beta keeps all."""
    b, a = nodes(backend, tmp_path, "beta", "alpha")
    try:
        link(a, b)
        route_in_process(a, b)
        b.run(CreateRecord("team", {"slug": "b", "name": "beta's own"}))
        a.run(CreateRecord("team", {"slug": "a", "name": "alpha's"}))
        _compact_by_retention(b, monkeypatch)
        assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
        refused = cli(b, "sync", "--peer", "alpha", "--bootstrap")
        assert refused.exit_code != 0 and "only as compacted bases" in refused.output
        assert {r.slug for r in b.query(sa.select(teams.c.slug))} == {"b"}
    finally:
        for node in (a, b):
            dispose(node)


@BOTH
def test_a_batch_on_its_way_when_the_node_starts_again_is_dropped_not_applied(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alpha's pull of beta has read its cursor when alpha starts again from gamma's
    snapshot (its cursors emptied). Applied, the batch on its way would put the cursor
    back past beta's events alpha no longer holds, and alpha would never pull them
    again: it is refused, and the next pull brings them."""
    from webapp.sync.client import PeerClient

    a, b, c = nodes(backend, tmp_path, "alpha", "beta", "gamma")
    try:
        link(a, b)
        link(a, c)
        route_in_process(a, b, c)
        b.run(CreateRecord("team", {"slug": "p", "name": "beta's p"}))
        assert a.sync("beta").ok
        b.run(CreateRecord("team", {"slug": "q", "name": "beta's q"}))
        c.run(CreateRecord("team", {"slug": "y", "name": "gamma's team"}))
        assert a.sync("gamma").ok
        real, started = PeerClient.events, []

        def events(self: PeerClient, *args: Any, **kwargs: Any) -> Any:
            if not started:  # the pull has read its cursor: alpha starts again now
                started.append(True)
                _bootstrap(a, c)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(PeerClient, "events", events)
        on_its_way = a.sync("beta")
        assert not on_its_way.ok and "went back" in str(on_its_way.error)
        monkeypatch.setattr(PeerClient, "events", real)
        assert a.sync("beta").ok
        assert {r.slug for r in a.query(sa.select(teams.c.slug))} == {"p", "q", "y"}
    finally:
        for node in (a, b, c):
            dispose(node)


def _open_conflicts(node: Node) -> set[tuple[str, str, str]]:
    rows = node.query(sa.select(conflicts.c.kind, conflicts.c.record_id, conflicts.c.field)
                      .where(conflicts.c.status == "open"))
    return {(r.kind, r.record_id, r.field) for r in rows}


def _teams(node: Node) -> set[tuple[str, str, str]]:
    return {(r.id, r.slug, r.name) for r in node.query(sa.select(teams.c.id, teams.c.slug,
                                                                teams.c.name))}


@BOTH
def test_an_open_unique_collision_survives_compaction_and_bootstrap(
        backend: str, tmp_path: Path) -> None:
    """alpha and beta both made team "ops"; the collision is open. alpha compacts:
    both claimants keep their events (the winner was compacted into a base, and every
    later batch was refused looking for its event in the log). A node bootstrapped from
    alpha ends with the same teams and the same open collision, and later batches apply
    on both."""
    a, b, d = nodes(backend, tmp_path, "alpha", "beta", "delta")
    try:
        link(a, b)
        route_in_process(a, b, d)
        a.run(CreateRecord("team", {"slug": "ops", "name": "alpha's"}))
        b.run(CreateRecord("team", {"slug": "ops", "name": "beta's"}))
        for _ in range(2):
            assert a.sync("beta").ok and b.sync("alpha").ok
        opened = _open_conflicts(a)
        assert [kind for kind, _, _ in opened] == ["unique_collision"]
        assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
        assert cli(a, "audit", "compact").exit_code == 0
        held = {r.record_id for r in a.query(sa.select(ev.c.record_id).distinct())}
        assert {team_id for team_id, _, _ in _teams(a)} <= held
        link(a, d)
        _bootstrap(d, a)
        assert d.sync("alpha").ok
        b.run(CreateRecord("team", {"slug": "dev", "name": "Dev"}))
        assert a.sync("beta").ok
        result = d.sync("alpha")
        assert result.ok, result.error
        assert _teams(d) == _teams(a) and len(_teams(a)) == 3
        assert _open_conflicts(d) == _open_conflicts(a) == opened
    finally:
        for node in (a, b, d):
            dispose(node)


@BOTH
def test_a_collision_with_a_compacted_record_names_its_base_event(
        backend: str, tmp_path: Path) -> None:
    """alpha's team "ops" was compacted into a base before beta's team "ops" arrived:
    the collision opens, its winning side named by the base's event, and the batch
    applies (it was refused: the winner's event was looked up in the log alone)."""
    a, b = nodes(backend, tmp_path, "alpha", "beta")
    try:
        a.run(CreateRecord("team", {"slug": "ops", "name": "alpha's"}))
        assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
        assert cli(a, "audit", "compact").exit_code == 0  # no peers yet: nothing waits
        assert a.query(sa.select(ev.c.event_id)) == []
        b.run(CreateRecord("team", {"slug": "ops", "name": "beta's"}))
        link(a, b)
        route_in_process(a, b)
        result = a.sync("beta")
        assert result.ok, result.error
        [(kind, _, field)] = _open_conflicts(a)
        assert (kind, field) == ("unique_collision", "slug")
        assert len(_teams(a)) == 2
    finally:
        for node in (a, b):
            dispose(node)


def _away_edit_then_retention(a: Node, b: Node, g: Node, monkeypatch: pytest.MonkeyPatch,
                              alpha_edits: list[str]) -> str:
    """alpha makes a project; beta and gamma have it; gamma edits its budget, beta pulls
    it; alpha edits its description (`alpha_edits`, in turn); then beta, on the version
    with gamma's edit, sets its status; alpha snapshots and compacts by retention what
    beta never fetched. Returns the project's id."""
    team = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"})).record
    p = a.run(CreateRecord("project", {"name": "Apollo", "team_id": team["id"],
                                       "status": "planned", "budget": "10k",
                                       "description": "v0"})).record
    assert b.sync("alpha").ok and g.sync("beta").ok
    g.run(UpdateRecord("project", p["id"], 1, {"budget": "20k"}))
    assert b.sync("gamma").ok
    for version, text in enumerate(alpha_edits, start=1):
        a.run(UpdateRecord("project", p["id"], version, {"description": text}))
    b.run(UpdateRecord("project", p["id"], 2, {"status": "active"}))  # later than alpha's
    _compact_by_retention(a, monkeypatch)
    return str(p["id"])


@BOTH
def test_a_returning_edit_merges_against_the_bases_pre_state_not_nothing(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """beta's edit (on gamma's version, which alpha lacks) and alpha's compacted edit
    met at the project as alpha created it; alpha's base was written on exactly that
    version, so its signed pre-state is the ancestor. Merged against nothing, every
    field counted as changed on both sides and beta's later edit undid alpha's."""
    b, a, g = nodes(backend, tmp_path, "beta", "alpha", "gamma")
    try:
        link(a, b)
        link(b, g)
        route_in_process(a, b, g)
        _away_edit_then_retention(a, b, g, monkeypatch, ["v1"])
        _bootstrap(b, a)
        [row] = b.query(STATE)
        assert (row.description, row.status) == ("v1", "active")
        _converged((a, b, g), ((a, b), (b, g)), ("20k", "active", "v1"))
    finally:
        for node in (a, b, g):
            dispose(node)


@BOTH
def test_a_returning_edit_whose_ancestor_was_compacted_is_refused_not_merged_blind(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As above, but alpha edited twice: its base was written on a later version, and
    the common ancestor (the project as created) is on no event beta holds after it
    starts again. The return is refused with a clear reason and nothing is written:
    beta keeps its history and its edit."""
    b, a, g = nodes(backend, tmp_path, "beta", "alpha", "gamma")
    try:
        link(a, b)
        link(b, g)
        route_in_process(a, b, g)
        _away_edit_then_retention(a, b, g, monkeypatch, ["v1", "v2"])
        before = b.query(STATE)
        events = b.query(sa.select(ev.c.event_id).order_by(ev.c.seq))
        assert cli(a, "audit", "snapshot", "--quiet").exit_code == 0
        done = cli(b, "sync", "--peer", "alpha", "--bootstrap")
        assert done.exit_code != 0
        assert "ancestor was compacted" in done.output, done.output
        assert b.query(STATE) == before
        assert b.query(sa.select(ev.c.event_id).order_by(ev.c.seq)) == events
    finally:
        for node in (a, b, g):
            dispose(node)
