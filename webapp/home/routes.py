"""The dashboard: activity over time at a glance, what waits for an admin (open
conflicts, peers' lag, the last verification), record counts and the latest events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..activity import charts, rollup
from ..along import Along, on, value
from ..auth.roles import has_role, role_required
from ..chrome import last_verification, node_names
from ..extensions import db
from ..preferences.zones import current_zone
from ..sync.service import peer_statuses
from ..templating import macro
from ..timeline import dense
from .dashboard import activity, charts_html
from .stats import entity_counts

bp = Blueprint("home", __name__)

LATEST = 10  # the newest events the dashboard lists
# Read on every view, along with the reader (webapp/along.py).
ROLLUP_STATE = Along(rollup.COUNTED_AND_HEAD, rollup.counted_and_head_among,
                     rollup.counted_and_head)
on("home.index", ROLLUP_STATE)


@bp.get("/")
@role_required("viewer")
def index() -> str:
    session = db.session()
    # Counts the events since the last look.
    counted = rollup.caught_up(session, value(ROLLUP_STATE))
    nodes = node_names()
    span = request.args.get("span", charts.DEFAULT_SPAN)
    found = activity(session, span, datetime.now(UTC), current_zone(), nodes, counted)
    context: dict[str, Any] = {
        "charts": charts_html(found, request.script_root, lambda: macro(
            "home/_charts.html", "activity")(found, charts.SPANS.values())),
        "counts": entity_counts(session, (*sorted(nodes), counted)),
    }
    context["latest"] = dense.newest(session, nodes, LATEST)
    if has_role(current_user, "admin"):
        context.update(peers=peer_statuses(), verification=last_verification())
    return render_template("home/index.html", **context)
