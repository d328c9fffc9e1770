"""The app's one Auditor: registry, clock and this database's node id."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from . import nodekey
from .audit.hlc import HybridClock
from .audit.node import init_node, load_node
from .audit.service import Auditor
from .domain import registry
from .extensions import db

_lock = threading.Lock()


def auditor(app: Flask | None = None) -> Auditor:
    """Built on first use, so the database may be migrated after the app is created."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found: Auditor | None = app.extensions.get("hindsight.auditor")
    if found is not None:
        return found
    with _lock:
        if "hindsight.auditor" not in app.extensions:
            clock = HybridClock(max_drift_ms=app.config["HINDSIGHT_MAX_DRIFT_MS"])
            stored = load_node(db.session)
            if stored is None:
                node_id = init_node(db.session, app.config["HINDSIGHT_NODE_NAME"], clock)
            else:
                node_id, last_hlc = stored
                clock.observe(last_hlc)
            nodekey.load(app, db.session)
            db.session.rollback()
            app.extensions["hindsight.auditor"] = Auditor(registry, clock, node_id)
    return app.extensions["hindsight.auditor"]  # type: ignore[no-any-return]
