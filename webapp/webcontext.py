"""Who is asking, for the audit log: each request sets the core's AuditContext (user,
request id, client IP, session id, W3C trace) so every command it runs is attributed."""

from __future__ import annotations

import re
import secrets
from contextlib import AbstractContextManager
from dataclasses import replace

from flask import Flask, g, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from .audit.context import AuditContext, audit_context
from .audit.ids import new_ulid

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id() -> str:
    """The caller's X-Request-ID if it is sane, else a new ULID."""
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else new_ulid()


def build_context() -> AuditContext:
    user_id = current_user.id if current_user.is_authenticated else None
    sid = session.get("sid")
    ctx = AuditContext(
        user_id=user_id,
        request_id=g.request_id,
        client_ip=(request.remote_addr or "")[:45] or None,
        session_id=sid if isinstance(sid, str) and _REQUEST_ID.match(sid) else None,
    )
    traced = ctx.with_traceparent(request.headers.get("traceparent"))
    if traced is ctx:  # no valid traceparent: start a trace here
        traced = replace(ctx, trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8))
    return traced


def init_app(app: Flask) -> None:
    @app.before_request
    def _open() -> None:
        g.request_id = request_id()
        if request.endpoint == "static":
            return
        scope = audit_context(build_context())
        scope.__enter__()  # left in teardown_request, which always runs
        g.audit_scope = scope

    @app.after_request
    def _echo(response: Response) -> Response:
        if "request_id" in g:
            response.headers.setdefault("X-Request-ID", g.request_id)
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        scope: AbstractContextManager[AuditContext] | None = g.pop("audit_scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)
