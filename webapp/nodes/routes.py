"""The `nodes` pages (admins): this node, its peers and how their sync goes, and a
"sync now" button that runs one bounded pull and reports the outcome."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..audit import store
from ..auth.roles import role_required
from ..extensions import db
from ..sync.peers import get_peer, node_name
from ..sync.service import WEB_MAX_BATCHES, peer_statuses, replicator, run_sync
from .keys import key_facts

bp = Blueprint("nodes", __name__, url_prefix="/nodes")


@bp.get("")
@role_required("admin")
def index() -> str:
    node_id = replicator().node_id
    return render_template(
        "nodes/index.html", node_id=node_id, name=node_name(db.session, node_id),
        head_seq=store.last_seq(db.session), statuses=peer_statuses(), **key_facts())


@bp.post("/<name>/sync")
@role_required("admin")
def sync_now(name: str) -> Response:
    peer = get_peer(db.session, name)
    if peer is None:
        abort(404, f"no peer named {name[:100]!r}")
    result = run_sync(peer, max_batches=WEB_MAX_BATCHES)
    flash(result.summary(), "success" if result.ok else "error")
    return redirect(url_for("nodes.index"))
