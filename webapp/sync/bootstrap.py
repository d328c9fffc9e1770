"""`flask sync --peer NAME --bootstrap`: a brand-new node starts from the peer's latest
snapshot (fetched over the signed protocol, checked whole, in bounded memory): its
record bases, each verified against its origin's pinned key, written in one transaction;
then it pulls the peer's events after its compaction as usual (verified as any)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import current_app

from ..audit.compaction.bootstrap import Bootstrapped, bootstrap, check_fresh
from ..audit.keys import public_keys
from ..domain import registry
from ..extensions import db
from ..runtime import auditor
from . import peers as peer_store
from .peers import Peer
from .pinning import pin_keys
from .puller import check_identity
from .service import client_for
from .snapshot_client import fetch


def bootstrap_from(peer: Peer, progress: Any = None) -> Bootstrapped:
    """Bootstrap this node from `peer`'s latest snapshot. BootstrapError (a ValueError)
    when this node is not brand-new; SyncError when the peer or its snapshot is refused.
    Nothing is written unless the whole snapshot is."""
    session, own = db.session, auditor().node_id
    check_fresh(session, registry)  # before fetching anything
    session.rollback()
    client = client_for(peer)
    hello = client.hello()
    check_identity(peer, hello.node_id, own)
    if peer.node_id is None:
        peer_store.pin_node_id(session, peer.name, hello.node_id)
    peer_store.remember_nodes(session, hello.nodes)
    pin_keys(session, peer, hello, own)
    with tempfile.TemporaryDirectory(dir=current_app.instance_path) as tmp:
        path = Path(tmp) / "snapshot.jsonl"
        with path.open("wb") as out:
            _, end = fetch(client, out, expect_node=hello.node_id)
        try:
            done = bootstrap(session, registry, auditor().clock, _lines(path), own,
                             hello.node_id, public_keys(session),
                             end["records"] + end["tombstones"] + end.get("bases", 0),
                             progress)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return done


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as stream:
        for line in stream:
            yield json.loads(line)
