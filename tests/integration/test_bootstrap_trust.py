"""No one writes history in another node's name through a snapshot (SPEC 6, 7): a node
bootstrapping from a peer's snapshot checks every base event as the apply path checks an
event (its hash, its origin's signature against the pinned key, its entity's
validation), the chain starts' signatures and the clock frontier. A tampered snapshot is
refused with a clear error and writes nothing; the peer's own record lines (its current
state) are never taken on its word; and verification proves bootstrapped records from
their bases like any other."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result

from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from webapp.audit import canonical, hlc, keys
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.compaction.tables import compacted_records
from webapp.audit.events import CONTENT, ChangeEvent
from webapp.audit.ids import new_ulid
from webapp.audit.replication.chaintables import chain_heads
from webapp.domain import registry

teams = registry.get("team").table

Doc = dict[str, Any]


@pytest.fixture
def compacted(backend: str, tmp_path: Path) -> Iterator[tuple[Node, Node, Path]]:
    """alpha (on `backend`) with two teams, compacted (beta acknowledged everything),
    and a brand-new gamma linked to it after that (a peer that never pulled would hold
    compaction back). Returns alpha, gamma and alpha's snapshot."""
    a = make_node(backend, "alpha", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "alpha"))
    b = make_node("sqlite", "beta", tmp_path)
    g = make_node("sqlite", "gamma", tmp_path)
    link(a, b)
    route_in_process(a, b, g)
    ops = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops"})).record
    a.run(UpdateRecord("team", ops["id"], 1, {"name": "Operations"}))
    a.run(CreateRecord("team", {"slug": "web", "name": "Web"}))
    for node, peer in ((b, "alpha"), (a, "beta"), (b, "alpha"), (a, "beta")):
        assert node.sync(peer).ok
    result = a.app.test_cli_runner().invoke(args=["audit", "snapshot", "--quiet"])
    assert result.exit_code == 0
    result = a.app.test_cli_runner().invoke(args=["audit", "compact", "--quiet"])
    assert result.exit_code == 0 and "removed 3 events" in result.output, result.output
    link(a, g)  # the bootstrap pins alpha's keys (and beta's, through alpha)
    snapshot = sorted((tmp_path / "alpha").glob("*.jsonl"))[-1]
    yield a, g, snapshot
    for node in (a, b, g):
        dispose(node)


def bootstrap(node: Node) -> Result:
    return node.app.test_cli_runner().invoke(args=["sync", "--peer", "alpha", "--bootstrap"])


def rewrite(path: Path, change: Callable[[list[Doc]], None]) -> None:
    """Change the snapshot's lines, then seal it again as a lying peer would (its end
    line's SHA-256 and counts match), so only the bootstrap's own checks stand."""
    docs = [json.loads(line) for line in path.read_bytes().splitlines()]
    body, end = docs[:-1], docs[-1]
    change(body)
    digest = hashlib.sha256()
    for doc in body:
        digest.update(canonical.dumps(doc).encode() + b"\n")
    end["sha256"] = digest.hexdigest()
    path.write_bytes(b"".join(canonical.dumps(d).encode() + b"\n" for d in [*body, end]))


def bases(body: list[Doc]) -> list[Doc]:
    return [d["event"] for d in body if d["kind"] == "base"]


def resealed(doc: Doc, **changes: Any) -> Doc:
    """The event with `changes`, hashed again (a content hash anyone can compute)."""
    content = {name: doc[name] for name in CONTENT} | changes
    event = ChangeEvent.sealed(content, doc["prev_hash"], None)
    return {**doc, **changes, "hash": event.hash}


def wrote_nothing(node: Node) -> None:
    assert node.query(sa.select(teams.c.id)) == []
    assert node.query(sa.select(compacted_records.c.record_id)) == []
    assert node.query(sa.select(chain_heads.c.origin_node_id)) == []


def test_an_honest_snapshot_bootstraps_and_verifies(
        compacted: tuple[Node, Node, Path]) -> None:
    a, g, _ = compacted
    done = bootstrap(g)
    assert done.exit_code == 0, done.output
    names = sa.select(teams.c.slug, teams.c.name, teams.c.vv).order_by(teams.c.slug)
    assert g.query(names) == a.query(names)
    verified = g.app.test_cli_runner().invoke(args=["audit", "verify", "--quiet"])
    assert verified.exit_code == 0, verified.output


def test_a_changed_state_is_refused(compacted: tuple[Node, Node, Path]) -> None:
    _, g, snapshot = compacted

    def change(body: list[Doc]) -> None:
        bases(body)[0]["post_state"]["name"] = "Owned"  # hash left as it was
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 1
    assert "a base event is refused: event" in done.output
    assert "its hash does not match its content" in done.output
    wrote_nothing(g)


def test_a_changed_state_hashed_again_is_refused_by_its_signature(
        compacted: tuple[Node, Node, Path]) -> None:
    _, g, snapshot = compacted

    def change(body: list[Doc]) -> None:
        base = bases(body)[0]
        base.update(resealed(base, post_state={**base["post_state"], "name": "Owned"}))
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 1
    assert "carries a signature its origin's pinned key does not verify (forged)" in done.output
    wrote_nothing(g)


def test_a_head_forged_in_another_nodes_name_is_refused(
        compacted: tuple[Node, Node, Path]) -> None:
    _, g, snapshot = compacted
    intruder = keys.new_private_key()

    def change(body: list[Doc]) -> None:
        base = bases(body)[0]
        forged = resealed(base, post_state={**base["post_state"], "name": "Owned"})
        forged["signature"] = keys.sign(intruder, base["origin_node_id"], forged["hash"])
        base.update(forged)
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 1 and "(forged)" in done.output
    wrote_nothing(g)


def test_an_unknown_signer_is_refused(compacted: tuple[Node, Node, Path]) -> None:
    _, g, snapshot = compacted
    stranger, key = new_ulid(), keys.new_private_key()

    def change(body: list[Doc]) -> None:
        base = bases(body)[0]
        vector = {stranger: 1}
        forged = resealed(base, origin_node_id=stranger, vv_before={}, vv_after=vector)
        forged["signature"] = keys.sign(key, stranger, forged["hash"])
        base.update(forged)
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 1
    assert f"is signed by origin {stranger}, which has no pinned key here (unknown signer)" \
        in done.output
    wrote_nothing(g)


def test_an_unsigned_base_of_a_keyed_origin_is_refused(
        compacted: tuple[Node, Node, Path]) -> None:
    _, g, snapshot = compacted

    def change(body: list[Doc]) -> None:
        bases(body)[0]["signature"] = None
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 1 and "is not signed, and its origin has a pinned key" in done.output
    wrote_nothing(g)


def test_a_clock_frontier_far_in_the_future_is_refused(
        compacted: tuple[Node, Node, Path]) -> None:
    _, g, snapshot = compacted
    tomorrow = hlc.pack(hlc.wall_ms() + 86_400_000)

    def change(body: list[Doc]) -> None:
        body[0]["hlc_frontier"] = tomorrow
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 1
    assert "the snapshot's clock frontier is refused" in done.output
    assert "ahead of the local clock" in done.output
    wrote_nothing(g)
    with g.app.app_context():
        from webapp.runtime import auditor
        assert auditor().clock.last < tomorrow  # the clock did not move


def test_the_peers_own_record_lines_are_not_taken(compacted: tuple[Node, Node, Path]) -> None:
    a, g, snapshot = compacted

    def change(body: list[Doc]) -> None:
        for doc in body:
            if doc["kind"] == "record":
                doc["state"]["name"] = "Owned"
    rewrite(snapshot, change)
    done = bootstrap(g)
    assert done.exit_code == 0, done.output
    names = sa.select(teams.c.name).order_by(teams.c.name)
    assert [r.name for r in g.query(names)] == ["Operations", "Web"] == \
        [r.name for r in a.query(names)]


def test_verify_proves_bootstrapped_records_from_their_bases(
        compacted: tuple[Node, Node, Path]) -> None:
    _, g, _ = compacted
    assert bootstrap(g).exit_code == 0
    with g.app.app_context():
        from webapp.extensions import db
        db.session.execute(teams.update().where(teams.c.slug == "web").values(name="Owned"))
        cr = compacted_records.c
        [ops] = db.session.execute(sa.select(cr.record_id, cr.post_state).where(
            cr.post_state.like('%"ops"%'))).all()
        state = canonical.loads(ops.post_state) | {"name": "Owned too"}
        db.session.execute(compacted_records.update().where(cr.record_id == ops.record_id)
                           .values(post_state=canonical.dumps(state)))
        db.session.commit()
    verified = g.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 1
    assert "name='Owned' where its events say 'Web'" in verified.output
    assert "does not match its hash" in verified.output


def test_a_bootstrapped_node_sends_a_brand_new_one_to_its_snapshot(
        compacted: tuple[Node, Node, Path], tmp_path: Path) -> None:
    """gamma's log starts at its bootstrap: a brand-new delta asking it for events gets
    409 snapshot required (its events presuppose bases delta lacks), then bootstraps
    from gamma's own snapshot and converges."""
    a, g, _ = compacted
    assert bootstrap(g).exit_code == 0
    [ops] = g.query(sa.select(teams.c.id, teams.c.version).where(teams.c.slug == "ops"))
    g.run(UpdateRecord("team", ops.id, ops.version, {"name": "Ops (gamma)"}))
    d = make_node("sqlite", "delta", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "delta"))
    try:
        link(g, d)
        route_in_process(a, g, d)
        refused = d.sync("gamma")
        assert not refused.ok and "snapshot required" in str(refused.error)
        assert "you hold nothing yet" in str(refused.error)
        assert g.app.test_cli_runner().invoke(args=["audit", "snapshot", "--quiet"]).exit_code == 0
        done = d.app.test_cli_runner().invoke(args=["sync", "--peer", "gamma", "--bootstrap"])
        assert done.exit_code == 0, done.output
        state = sa.select(teams.c.id, teams.c.name, teams.c.vv).order_by(teams.c.id)
        assert d.query(state) == g.query(state)
        assert [r.name for r in d.query(state)] == ["Ops (gamma)", "Web"]
        assert d.sync("gamma").ok  # and it goes on incrementally
        verified = d.app.test_cli_runner().invoke(args=["audit", "verify", "--quiet"])
        assert verified.exit_code == 0, verified.output
    finally:
        dispose(d)


def test_a_base_later_than_its_origins_chain_start_is_refused(
        compacted: tuple[Node, Node, Path]) -> None:
    """A base is a removed event: at or before where its origin's remaining chain
    starts. A snapshot whose chain start comes before one of its origin's bases (or
    that has no start for a base's origin) is refused and writes nothing."""
    a, g, snapshot = compacted

    def earlier_start(body: list[Doc]) -> None:
        start = body[0]["starts"][a.node_id]
        start["hlc"] = min(b["hlc"] for b in bases(body)) - 1

    rewrite(snapshot, earlier_start)
    done = bootstrap(g)
    assert done.exit_code == 1
    assert "is later than its origin's chain start" in done.output, done.output
    wrote_nothing(g)


def test_a_base_whose_origin_has_no_chain_start_is_refused(
        compacted: tuple[Node, Node, Path]) -> None:
    a, g, snapshot = compacted
    rewrite(snapshot, lambda body: body[0]["starts"].pop(a.node_id))
    done = bootstrap(g)
    assert done.exit_code == 1
    assert "has no chain start for its origin" in done.output, done.output
    wrote_nothing(g)


def test_verify_says_what_rests_on_the_snapshot_a_node_started_from(
        compacted: tuple[Node, Node, Path]) -> None:
    """A peer could serve an older, genuinely signed event as a base, or leave a record
    out: nothing on the bootstrapped node can prove otherwise. So verify never says "no
    break found" of records resting on a snapshot; it names the snapshot they rest on."""
    a, g, snapshot = compacted
    assert bootstrap(g).exit_code == 0
    verified = g.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "no break found" not in verified.output
    assert (f"2 record(s) rest on node {a.node_id}'s snapshot {snapshot.stem}"
            in verified.output), verified.output
    assert "not provable beyond it" in verified.output
    mine = a.app.test_cli_runner().invoke(args=["audit", "verify"])  # compacted, not
    assert mine.exit_code == 0 and "no break found" in mine.output  # bootstrapped


def test_verify_names_the_snapshot_even_when_it_left_every_record_out(
        compacted: tuple[Node, Node, Path]) -> None:
    """A peer that withholds every base leaves a node with nothing to check: verify
    still says which snapshot it started from, not "no break found"."""
    a, g, snapshot = compacted
    rewrite(snapshot, lambda body: body.__setitem__(
        slice(None), [d for d in body if d.get("kind") != "base"]))
    *lines, end = snapshot.read_bytes().splitlines()
    sealed = json.loads(end) | {"bases": 0}  # the counts a lying peer would write
    snapshot.write_bytes(b"".join(line + b"\n" for line in lines)
                         + canonical.dumps(sealed).encode() + b"\n")
    done = bootstrap(g)
    assert done.exit_code == 0, done.output
    assert g.query(sa.select(teams.c.id)) == []
    verified = g.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert "no break found" not in verified.output
    assert f"0 record(s) rest on node {a.node_id}'s snapshot" in verified.output, \
        verified.output
