"""Downloads of the timeline (viewers): the page's filters, every matching event, as CSV
or JSON Lines, streamed batch by batch so memory stays flat however many match."""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, request, stream_with_context
from sqlalchemy.orm import Session

from ..audit.verify.verifier import snapshot as consistent_read
from ..auth.roles import role_required
from ..extensions import db
from ..preferences.zones import current_zone
from ..timeline import lookup
from ..timeline.filters import BadFilterError
from .stream import FORMATS, chunks

bp = Blueprint("export", __name__)


@bp.get("/timeline/export.<fmt>")
@role_required("viewer")
def download(fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404, f"no export format {fmt[:20]!r}; use csv or jsonl")
    try:
        query = lookup.parse(db.session(), request.args, current_zone())
    except BadFilterError as exc:
        abort(400, str(exc))
    media, ext = FORMATS[fmt]
    engine = db.engine

    def body() -> Iterator[bytes]:
        # A session of the stream's own: the request's is closed when the view returns,
        # before the first chunk is read. Every batch sees the same log, however long
        # the download takes (a compaction or a pull meanwhile changes nothing in it).
        with Session(engine) as session:
            consistent_read(session)
            yield from chunks(session, query, fmt)

    response = Response(stream_with_context(body()), content_type=media)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = f"hindsight-events-{stamp}.{ext}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
