"""The dashboard: how many records of each entity, and the latest events."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.roles import role_required
from ..extensions import db
from .stats import entity_counts, latest_events

bp = Blueprint("home", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> str:
    counts = entity_counts(db.session())
    events, usernames = latest_events(db.session(), limit=10)
    return render_template("home/index.html", counts=counts, events=events,
                           usernames=usernames)
