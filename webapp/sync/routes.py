"""The `sync` blueprint: this node's log for its peers, GET only, HMAC-signed both ways.

No login and no CSRF (nothing here changes state or reads a cookie); instead every
request must carry a fresh, valid signature from a known peer, and a nonce used once.
Anything else gets a JSON 401 that says only "authentication failed" (whether a key id
exists is no business of a stranger's), and nothing is served; the reason goes to the
operator's log."""

from __future__ import annotations

import logging
from itertools import islice
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..access.events import record_access
from ..audit import snapshots, store
from ..audit.compaction.points import snapshot_required
from ..audit.ids import is_ulid
from ..audit.keys import public_keys
from ..audit.lookups import node_names
from ..audit.replication import event_to_wire
from ..extensions import db
from ..runtime import auditor
from . import acks, nonces, protocol
from .coverage import covered_at, end_at_signed_points
from .peers import Peer, find_by_key_id
from .signing import (
    KEY_HEADER,
    WINDOW_MS,
    SignatureError,
    now_ms,
    parse_request_headers,
    sign_response,
    verify_request,
)

bp = Blueprint("sync", __name__, url_prefix="/sync")
AUTH_FAILED = "authentication failed"  # the one reason a refused request is given


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _json(status: int, doc: dict[str, Any] | bytes, peer: Peer | None = None,
          nonce: str | None = None) -> Response:
    body = doc if isinstance(doc, bytes) else protocol.dumps(doc)
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if peer is not None and nonce is not None:
        response.headers.update(sign_response(peer.secret, status, body, nonce))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Hindsight-HMAC realm="sync"'
    return response


def _authenticate() -> tuple[Peer, str]:
    """The peer that signed this request and the request's nonce, or _Refused(401)."""
    try:
        signed = parse_request_headers(request.headers)
    except SignatureError as exc:
        raise _Refused(401, str(exc)) from None
    peer = find_by_key_id(db.session, signed.key_id)
    if peer is None:
        raise _Refused(401, "unknown key id: no peer of this node has that secret")
    path = request.script_root + request.path
    query = request.query_string.decode("latin-1")
    try:
        verify_request(peer.secret, signed, request.method, path, query, request.get_data())
    except SignatureError as exc:
        raise _Refused(401, str(exc)) from None
    if not _remember_nonce(peer.key_id, signed.nonce):
        raise _Refused(401, "replayed request: this nonce was already used")
    return peer, signed.nonce


_PURGED_AT = "hindsight.sync_nonces_purged_ms"


def _remember_nonce(kid: str, nonce: str) -> bool:
    """False for a replay. A nonce is kept for two windows: a request signed at t is
    accepted until t + WINDOW_MS, and t is at most WINDOW_MS ahead of our clock."""
    now = now_ms()
    if now - current_app.extensions.get(_PURGED_AT, 0) >= nonces.PURGE_EVERY_MS:
        current_app.extensions[_PURGED_AT] = now
        nonces.purge_expired(db.session, now)
    return nonces.remember(db.session, kid, nonce, now, 2 * WINDOW_MS)


def _serve(build: Any) -> Response:
    try:
        peer, nonce = _authenticate()
    except _Refused as exc:
        record_access("sync_refused", "Sync request refused", level=logging.WARNING,
                      detail=f"{exc} (key id {request.headers.get(KEY_HEADER, '')[:16] or '-'})")
        return _json(exc.status, {"error": AUTH_FAILED})
    try:
        return _json(200, build(peer), peer, nonce)
    except ValueError as exc:  # a bad query argument from a genuine peer
        return _json(400, {"error": str(exc)}, peer, nonce)
    except _Refused as exc:  # e.g. nothing to serve (404)
        return _json(exc.status, {"error": str(exc)}, peer, nonce)
    finally:
        db.session.rollback()


@bp.get("/hello")
def hello() -> Response:
    def build(_: Peer) -> dict[str, Any]:
        node_id, names = auditor().node_id, node_names(db.session)
        pinned = public_keys(db.session)
        return {"protocol": protocol.PROTOCOL, "node_id": node_id,
                "name": names.get(node_id, ""), "head_seq": store.last_seq(db.session),
                "nodes": dict(islice(names.items(), protocol.MAX_NODES)),
                "public_key": pinned.pop(node_id, None),
                "keys": dict(islice(pinned.items(), protocol.MAX_NODES))}

    return _serve(build)


@bp.get("/snapshot")
def snapshot() -> Response:
    """A page of the latest snapshot (or of `id`, once a fetch has begun), from byte
    `after`: whole lines, bounded in count and size, and where the next page starts."""
    def build(_: Peer) -> bytes:
        after = protocol.parse_seq(request.args.get("after"), "after", 0)
        limit = protocol.parse_seq(request.args.get("limit"), "limit", protocol.SNAPSHOT_LINES)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        try:
            path = snapshots.find(Path(current_app.config["HINDSIGHT_SNAPSHOT_DIR"]),
                                  request.args.get("id"))
        except snapshots.SnapshotNotFoundError as exc:
            raise _Refused(404, str(exc)) from None
        lines, following = snapshots.read_page(path, after, min(limit, protocol.SNAPSHOT_LINES),
                                               protocol.SERVE_MAX_BYTES)
        return protocol.dumps_batch({"protocol": protocol.PROTOCOL, "node_id": auditor().node_id,
                                     "snapshot_id": path.stem, "after": after,
                                     "next": following}, lines, key="lines")

    return _serve(build)


@bp.get("/events")
def events() -> Response:
    def build(peer: Peer) -> bytes:
        after = protocol.parse_seq(request.args.get("after"), "after")
        limit = protocol.parse_seq(request.args.get("limit"), "limit", protocol.DEFAULT_LIMIT)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        have = request.args.get("have")  # the asker's own last seq: this request acks
        if have is not None:
            acks.record_ack(db.session, peer.name, peer.node_id, after,
                            protocol.parse_seq(have, "have"), now_ms())
        asker_epoch = request.args.get("epoch", "")
        if asker_epoch and not is_ulid(asker_epoch):
            raise ValueError("epoch must be a ULID")
        refused = snapshot_required(db.session, after, request.args.get("new") == "1",
                                    peer.node_id, asker_epoch)
        if refused:
            raise _Refused(409, refused)
        found = store.events_after(db.session, after, min(limit, protocol.MAX_LIMIT))
        keyed = set(public_keys(db.session))
        found = end_at_signed_points(db.session, found, keyed)
        head = store.last_seq(db.session)  # read after the events, so head >= each seq
        items: list[bytes] = []
        size, last = 0, after
        for event in found:
            item = protocol.dumps({"seq": event.seq, "event": event_to_wire(event)})
            size += len(item) + 1
            if items and size > protocol.SERVE_MAX_BYTES and (
                    covered_at(found, len(items), keyed) or size > protocol.SERVE_HARD_BYTES):
                break  # keep responses bounded; the peer asks again from here
            items.append(item)
            last = int(event.seq or 0)
        return protocol.dumps_batch({"protocol": protocol.PROTOCOL, "node_id": auditor().node_id,
                                     "head_seq": head, "after": after, "more": last < head},
                                    items)

    return _serve(build)
