"""`flask sync --peer NAME --bootstrap`: a brand-new node starts from the peer's latest
snapshot (fetched over the signed protocol, checked whole, in bounded memory): its
record bases, each verified against its origin's pinned key, written in one transaction;
then it pulls the peer's events after its compaction as usual (verified as any)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from ..activity import rollup
from ..audit import snapshots
from ..audit.compaction.bootstrap import Bootstrapped, bootstrap
from ..audit.compaction.points import holds_nothing
from ..audit.compaction.returning import ReturningError, start_again, unsent
from ..audit.events import ChangeEvent
from ..audit.keys import public_keys
from ..audit.node import GENESIS_HASH, lock_node
from ..domain import registry
from ..extensions import db
from ..runtime import auditor
from . import peers as peer_store
from .peers import Peer
from .pinning import pin_keys
from .puller import check_identity
from .service import client_for, replicator
from .snapshot_client import fetch


def bootstrap_from(peer: Peer, progress: Any = None) -> Bootstrapped:
    """Bootstrap this node from `peer`'s latest snapshot. A node with history of its own
    (one that was away while the peer compacted) keeps its own events the peer has not
    seen and replays them through the apply path, in the same transaction. BootstrapError
    or ReturningError (ValueErrors) when the snapshot is refused; SyncError when the peer
    is. Nothing is written unless all of it is."""
    session, own = db.session, auditor().node_id
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
            header, end = fetch(client, out, expect_node=hello.node_id)
        try:
            # The node's write lock first, held to the commit: a command another worker
            # commits between reading this node's unsent events and emptying its tables
            # would otherwise be deleted unseen. Whether it is returning is decided under
            # the lock.
            lock_node(session)()
            returning = not holds_nothing(session)
            kept = _start_again(session, own, header) if returning else []
            done = bootstrap(session, registry, auditor().clock, snapshots.lines(path), own,
                             hello.node_id, public_keys(session),
                             end["records"] + end["tombstones"] + end.get("bases", 0),
                             progress, returning)
            if kept:  # through conflict detection, against what the snapshot brought
                report = replicator().apply_within(session, hello.node_id, kept,
                                                   done.start_seq)
                done = replace(done, replayed=len(kept), conflicts=report.conflicts)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return done


def _start_again(session: Session, own: str, header: dict[str, Any]) -> list[ChangeEvent]:
    """Keep this node's events after the start of its chain in the snapshot (the ones
    the snapshot's bases do not hold), then empty its share of the history and set its
    chain head back to that start. Those it never sent are new to the peer; those the
    peer holds in its log past its compaction are replayed too, so that pulling them
    back from the peer finds them already here (they could not link otherwise: they
    lie before the head the peer holds)."""
    starts = header.get("starts")
    start = starts.get(own) if isinstance(starts, dict) else None
    if start is not None and not (isinstance(start, dict)
                                  and isinstance(start.get("hash"), str)):
        raise ReturningError("the snapshot's start of this node's chain is malformed")
    kept = unsent(session, own, start)
    start_again(session, registry, start["hash"] if start else GENESIS_HASH)
    rollup.start_again(session)  # the events come back under new seqs: count them once
    return kept


