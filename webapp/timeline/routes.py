"""The global timeline (newest first, filterable, keyset pages) and one event's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from werkzeug.wrappers import Response

from ..audit import keys, store
from ..audit.compaction.points import compacted_origins, readable
from ..audit.events import Op
from ..audit.ids import is_ulid
from ..audit.lookups import node_names
from ..auth.roles import role_required
from ..domain import registry
from ..extensions import db
from ..templating import is_htmx
from . import filters, lookup, rows
from .fragments import page_or_block

bp = Blueprint("timeline", __name__)

# HX-Target of an HTMX request -> the block of timeline/index.html that answers it.
BLOCKS = {"timeline-results": "results", "timeline-more": "rows"}


@bp.get("/timeline")
@role_required("viewer")
def index() -> Response:
    nodes = node_names(db.session())
    by_name = {name: node_id for node_id, name in nodes.items()}
    form = {k: request.args.get(k, "")[:filters.MAX_LEN] for k in filters.FIELDS}
    form["node"] = by_name.get(form["node"], form["node"].upper())  # a name or an id
    context: dict[str, Any] = {
        "form": form, "entities": list(registry), "ops": Op.ALL, "nodes": nodes, "rows": [],
        "next_url": None, "error": None, "paged": False,
        "compacted": [f"{nodes.get(origin, origin)}'s events up to {readable(last)}"
                      for origin, last in compacted_origins(db.session())],
    }
    status, clean_url = 200, None
    try:
        query = filters.parse(request.args, [e.name for e in registry],
                              resolve=lookup.resolvers(db.session(), by_name))
    except filters.BadFilterError as exc:
        context["error"], status = str(exc), 400
    else:
        page = store.TimelinePage([], None)
        if not query.nothing:
            page = store.timeline(db.session(), query.filters, query.before, rows.page_size(),
                                  registry)
        context["rows"] = rows.build(db.session(), page.events, nodes)
        context["paged"] = query.before is not None
        context["export_args"] = query.args  # the download links' filters
        if page.next_cursor is not None:
            context["next_url"] = url_for(".index", **query.args,  # type: ignore[arg-type]
                                          before=store.encode_cursor(page.next_cursor))
        clean_url = context["newest_url"] = url_for(".index", **query.args)  # type: ignore[arg-type]
    response = page_or_block("timeline/index.html", BLOCKS, status, **context)
    if is_htmx() and request.headers.get("HX-Target") == "timeline-results":
        # Push the URL without its empty fields; keep a bad filter out of the history.
        response.headers["HX-Push-Url"] = clean_url or "false"
    return response


@bp.get("/events/<event_id>")
@role_required("viewer")
def event(event_id: str) -> str:
    found = store.get_event(db.session(), event_id.upper()) if is_ulid(event_id.upper()) else None
    if found is None:
        abort(404)
    nodes = node_names(db.session())
    row = rows.build(db.session(), [store.upcast(registry, found)], nodes)[0]
    return render_template("timeline/event.html", row=row, event=row.event, node_names=nodes,
                           proof=keys.coverage(db.session(), found))
