"""A peer's latest snapshot over the signed sync protocol: page by page (bounded memory
on both sides), byte for byte what the node wrote; refused unsigned, missing or
tampered, and the fetching side writes nothing it has not checked whole."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import Client

from tests.support.sync_nodes import dispose, link, make_node, route_in_process
from webapp.audit import CreateRecord, DeleteRecord, snapshots
from webapp.domain import registry
from webapp.extensions import db
from webapp.sync.client import PeerRefusedError
from webapp.sync.protocol import ProtocolError
from webapp.sync.service import client_for
from webapp.sync.snapshot_client import fetch

pytestmark = pytest.mark.backends


@pytest.fixture
def pair(backend, tmp_path):
    a = make_node(backend, "snapa", tmp_path, HINDSIGHT_SNAPSHOT_DIR=str(tmp_path / "snaps"))
    b = make_node("sqlite", "snapb", tmp_path)
    link(a, b)
    route_in_process(a, b)
    for n in range(5):
        team = a.run(CreateRecord("team", {"slug": f"t{n}", "name": f"Team {n}"})).record
    a.run(DeleteRecord("team", team["id"], 1))
    yield a, b
    dispose(a)
    dispose(b)


def _take(node, tmp_path):
    with node.app.app_context():
        path, _ = snapshots.create(db.session(), registry, tmp_path / "snaps")
    return path


def _fetch(b, peer, **kwargs):
    out = io.BytesIO()
    with b.app.app_context():
        found = b.peer(peer)
        header, end = fetch(client_for(found), out, expect_node=found.node_id, **kwargs)
    return out.getvalue(), header, end


def test_a_peer_fetches_the_latest_snapshot_page_by_page(pair, tmp_path):
    a, b = pair
    b.sync("snapa")  # pins a's node id, as a first contact does
    _take(a, tmp_path)
    path = _take(a, tmp_path)  # the newer one is served
    body, header, end = _fetch(b, "snapa", limit=2)
    assert body == path.read_bytes() and header["snapshot_id"] == path.stem
    assert end["records"] == 4 and end["tombstones"] == 1


def test_the_cli_writes_a_checked_snapshot_file(pair, tmp_path):
    a, b = pair
    path = _take(a, tmp_path)
    target = tmp_path / "fetched.jsonl"
    result = b.app.test_cli_runner().invoke(args=["audit", "fetch-snapshot", "snapa",
                                                  "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == path.read_bytes() and path.stem in result.output


def test_no_snapshot_yet_is_a_clear_refusal_and_no_file(pair, tmp_path):
    _, b = pair
    target = tmp_path / "fetched.jsonl"
    result = b.app.test_cli_runner().invoke(args=["audit", "fetch-snapshot", "snapa",
                                                  "-o", str(target)])
    assert result.exit_code == 1 and "no snapshot yet" in result.output
    assert not target.exists() and not list(tmp_path.glob(".fetched*"))
    with pytest.raises(PeerRefusedError, match="404"):
        _fetch(b, "snapa")


def test_unsigned_or_unknown_requests_are_refused(pair, tmp_path):
    a, b = pair
    path = _take(a, tmp_path)
    assert Client(a.app).get("/sync/snapshot").status_code == 401
    with b.app.app_context():
        client = client_for(b.peer("snapa"))
        with pytest.raises(PeerRefusedError, match="404"):
            client.snapshot_page("01J00000000000000000000000", 0)
        with pytest.raises(PeerRefusedError, match="400.*not the start of a line"):
            client.snapshot_page(path.stem, 3)
        with pytest.raises(PeerRefusedError, match="400"):
            client.snapshot_page(path.stem, 0, limit=0)


class _Peer:
    """A peer serving given snapshot lines in one page (what a tampering relay sends)."""

    def __init__(self, lines):
        self.lines = lines

    def snapshot_page(self, snapshot_id, after, limit=None):
        return {"node_id": "01J0000000000000000000000N", "snapshot_id": self.lines[0].get(
            "snapshot_id", "01J0000000000000000000000S"), "lines": self.lines, "next": None}


def test_a_tampered_or_cut_snapshot_is_refused(pair, tmp_path):
    a, _ = pair
    header, *items, end = [json.loads(line) for line in _take(a, tmp_path).read_bytes()
                           .splitlines()]
    changed = [{**items[0], "version": 99}, *items[1:]]
    for lines, reason in [([header, *changed, end], "SHA-256"),
                          ([header, *items[1:], end], "SHA-256"),
                          ([header, *items], "ended before its end line"),
                          (items, "does not start with"),
                          ([header, *items, end, items[0]], "after its end")]:
        with pytest.raises(ProtocolError, match=reason):
            fetch(_Peer(lines), io.BytesIO())
