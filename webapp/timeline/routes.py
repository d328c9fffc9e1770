"""The global timeline (newest first, filterable, keyset pages) and one event's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..along import Along, on, value
from ..audit import keys, store
from ..audit.compaction.points import (
    COMPACTED_COLUMNS,
    compacted_origins,
    compacted_origins_among,
    readable,
)
from ..audit.events import ChangeEvent, Op
from ..audit.ids import is_ulid
from ..auth.roles import role_required
from ..chrome import node_names
from ..domain import registry
from ..extensions import db
from ..preferences.zones import current_zone, current_zone_name
from ..templating import is_htmx, macro
from . import dense, filters, lookup, rows
from .beside import AUTHORS_AND_SIDES
from .form import USERNAMES, form_values
from .fragments import page_or_block, wanted_block

bp = Blueprint("timeline", __name__)

# HX-Target of an HTMX request -> the block of timeline/index.html that answers it.
BLOCKS = {"timeline-results": "results", "timeline-more": "rows"}


# Read on every view, along with the reader (webapp/along.py): the compacted origins,
# and the known users for the filter form, which the blocks HTMX asks for do not show.
COMPACTED = Along(COMPACTED_COLUMNS, compacted_origins_among, compacted_origins)
on("timeline.index", COMPACTED,
   given=lambda _args: ((), {}) if wanted_block(BLOCKS) else ((USERNAMES,), {}))


@bp.get("/timeline")
@role_required("viewer")
def index() -> Response:
    nodes = node_names()
    by_name = {name: node_id for node_id, name in nodes.items()}
    zone = current_zone()
    # The filter form (known users, pickers) is only on the whole page, not in the blocks
    # that HTMX asks for (more rows, new results).
    form = {} if wanted_block(BLOCKS) else form_values(request.args, nodes, zone,
                                                         current_zone_name())
    context: dict[str, Any] = {
        "form": form, "entities": list(registry), "ops": Op.ALL, "nodes": nodes, "rows": [],
        "next_url": None, "error": None, "paged": False,
        "compacted": [f"{nodes.get(origin, origin)}'s events up to {readable(last)}"
                      for origin, last in value(COMPACTED)],
    }
    status, clean_url = 200, None
    try:
        query = filters.parse(request.args, [e.name for e in registry],
                              resolve=lookup.resolvers(db.session(), by_name), zone=zone)
    except filters.BadFilterError as exc:
        context["error"], status = str(exc), 400
    else:
        stored: list[Any] = []
        next_cursor: store.Cursor | None = None
        if not query.nothing:
            stored, next_cursor = store.timeline_rows(db.session(), query.filters,
                                                      query.before, rows.page_size(),
                                                      AUTHORS_AND_SIDES)
        context["rows"] = dense.page_rows(db.session(), stored, nodes, dense.Urls.here(),
                                          lambda: macro("timeline/_event.html", "dense_row"))
        context["paged"] = query.before is not None
        context["export_args"] = query.args  # the download links' filters
        if next_cursor is not None:
            context["next_url"] = url_for(".index", **query.args,  # type: ignore[arg-type]
                                          before=store.encode_cursor(next_cursor))
        clean_url = context["newest_url"] = url_for(".index", **query.args)  # type: ignore[arg-type]
    response = page_or_block("timeline/index.html", BLOCKS, status, **context)
    if is_htmx() and request.headers.get("HX-Target") == "timeline-results":
        # Push the URL without its empty fields; keep a bad filter out of the history.
        response.headers["HX-Push-Url"] = clean_url or "false"
    return response


def _event_or_404(event_id: str) -> ChangeEvent:
    found = store.get_event(db.session(), event_id.upper()) if is_ulid(event_id.upper()) else None
    if found is None:
        abort(404)
    return store.upcast(registry, found)


@bp.get("/events/<event_id>")
@role_required("viewer")
def event(event_id: str) -> str:
    found = _event_or_404(event_id)
    nodes = node_names()
    row = rows.build(db.session(), [found], nodes)[0]
    previous, following = store.record_neighbours(db.session(), found)
    return render_template("timeline/event.html", row=row, event=row.event, node_names=nodes,
                           proof=keys.coverage(db.session(), found), previous=previous,
                           following=following)


@bp.get("/events/<event_id>/diff")
@role_required("viewer")
def diff(event_id: str) -> Response:
    """A dense row's diff, opened in place (HTMX); a plain request gets the event page."""
    found = _event_or_404(event_id)
    if not is_htmx():
        return redirect(url_for(".event", event_id=found.event_id, _anchor="diff"))
    row = rows.build(db.session(), [found], node_names())[0]
    response = make_response(render_template("timeline/_diff.html", row=row))
    response.vary.add("HX-Request")
    return response
