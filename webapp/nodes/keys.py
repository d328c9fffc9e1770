"""What the nodes page shows of node keys: this node's key and whether its private half
is loaded, and every known node's pinned key with the node it was first learnt via."""

from __future__ import annotations

from typing import Any

from flask import current_app

from .. import nodekey
from ..audit.keys import known_nodes
from ..extensions import db


def key_facts() -> dict[str, Any]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    known = known_nodes(db.session)
    status = app.extensions.get(nodekey.STATUS) or nodekey.load(app, db.session)
    return {"known_nodes": known, "names": {n.node_id: n.name for n in known},
            "key_status": status}
