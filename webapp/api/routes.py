"""GET /api/events: the timeline's filters and keyset cursor, as JSON, for SIEMs and
scripts. Only an API token (`Authorization: Bearer ...`, see webapp/tokens/) opens it:
a session cookie alone never does, so no other site can make a logged-in browser read
it, and CSRF does not arise (it only reads, and never by cookie)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from ..audit import canonical, export, store
from ..audit.db import end_reads
from ..auth.account import Account
from ..auth.roles import has_role
from ..export.stream import page
from ..extensions import db
from ..timeline import lookup
from ..timeline.filters import BadFilterError
from ..tokens.service import TokenError, authenticate

bp = Blueprint("api", __name__, url_prefix="/api")

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
ROLE = "viewer"  # what reading the log takes, as on the timeline page


@bp.get("/events")
def events() -> Response:
    try:
        account = Account(authenticate(db.session(), request.headers.get("Authorization")))
    except TokenError as exc:
        response = _json(401, {"error": str(exc)})
        response.headers["WWW-Authenticate"] = 'Bearer realm="hindsight-api"'
        return response
    if not has_role(account, ROLE):
        return _json(403, {"error": f"this token's account lacks the {ROLE} role"})
    try:
        limit = _limit(request.args.get("limit"))
        query = lookup.parse(db.session(), request.args)
    except (BadFilterError, ValueError) as exc:
        return _json(400, {"error": str(exc)})
    items, cursor = page(db.session(), query, limit)
    nxt = store.encode_cursor(cursor) if cursor is not None else None
    more = url_for(".events", **query.args, limit=limit,  # type: ignore[arg-type]
                   before=nxt) if nxt else None
    return _json(200, export.json_page(items, next=nxt, next_url=more))


def _limit(text: str | None) -> int:
    if not text:
        return DEFAULT_LIMIT
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 0
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return value


def _json(status: int, doc: dict[str, Any] | bytes) -> Response:
    body = doc if isinstance(doc, bytes) else canonical.dumps(doc)
    response = Response(body, status=status, mimetype="application/json")
    end_reads(db.session())  # nothing here writes (a token's last use commits on its own)
    return response
