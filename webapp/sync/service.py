"""The app's side of sync: its Replicator (sharing the Auditor's clock), a client per
peer, and one bounded sync run. Used by the `nodes` pages and the `flask sync` command."""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app

from ..audit.replication import Replicator
from ..extensions import db
from ..runtime import auditor
from .client import PeerClient
from .peers import Peer, list_peers
from .protocol import DEFAULT_LIMIT, MAX_RESPONSE_BYTES
from .puller import Progress, SyncResult, first_line, sync_peer

log = logging.getLogger(__name__)
_lock = threading.Lock()
WEB_MAX_BATCHES = 5  # "sync now" on the nodes page stays a short request


def replicator(app: Flask | None = None) -> Replicator:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found: Replicator | None = app.extensions.get("hindsight.replicator")
    if found is None:
        core = auditor(app)  # one clock per process: commands and applies share it
        with _lock:
            found = app.extensions.setdefault(
                "hindsight.replicator", Replicator(core.registry, core.clock, core.node_id))
    return found


def client_for(peer: Peer) -> PeerClient:
    """HINDSIGHT_SYNC_TRANSPORT (tests only) routes requests to a WSGI app, not a socket."""
    config = current_app.config
    return PeerClient(peer.url or "", peer.secret,
                      transport=config.get("HINDSIGHT_SYNC_TRANSPORT"),
                      timeout=float(config.get("HINDSIGHT_SYNC_TIMEOUT", 30)),
                      max_bytes=int(config.get("HINDSIGHT_SYNC_MAX_BYTES", MAX_RESPONSE_BYTES)))


def run_sync(peer: Peer, max_batches: int | None = None, progress: Progress | None = None,
             limit: int | None = None) -> SyncResult:
    if not peer.url:
        return SyncResult(peer.name, node_id=peer.node_id,
                          error="this peer has no URL: it pulls from us; we do not pull from it")
    limit = limit or int(current_app.config.get("HINDSIGHT_SYNC_BATCH", DEFAULT_LIMIT))
    try:
        return sync_peer(db.session(), replicator(), peer, client_for(peer), limit=limit,
                         max_batches=max_batches, progress=progress)
    except Exception as exc:  # even the bookkeeping failed (e.g. the database is down)
        log.exception("sync from %s failed and could not be recorded", peer.name)
        with contextlib.suppress(Exception):
            db.session.rollback()
        return SyncResult(peer.name, node_id=peer.node_id,
                          error=f"sync failed and was not recorded: {first_line(exc)}")


@dataclass(frozen=True)
class PeerStatus:
    peer: Peer
    cursor: int  # how far into the peer's log this node has applied
    lag: int | None  # the peer's head (as of the last contact) minus the cursor

    @property
    def last_success(self) -> datetime | None:
        ms = self.peer.last_success_ms
        return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def peer_statuses() -> list[PeerStatus]:
    """Every peer with how far this node has pulled it (the nodes page, `peers list`)."""
    core = replicator()
    out = []
    for peer in list_peers(db.session):
        cursor = core.cursor(db.session, peer.node_id) if peer.node_id else 0
        lag = None if peer.head_seq is None else max(peer.head_seq - cursor, 0)
        out.append(PeerStatus(peer, cursor, lag))
    return out
