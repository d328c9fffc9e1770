"""Errors as pages: core errors mapped to HTTP status codes (in one place), and an error
page for each status. HTMX requests get a short fragment instead of a whole page."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .access.log import log_access
from .audit import errors as core
from .audit.keys import NodeKeyError
from .templating import is_htmx

STATUS: dict[type[Exception], int] = {
    core.ParamsError: 400,
    core.HLCFormatError: 400,
    core.UnknownEntityError: 404,
    core.NotFoundError: 404,
    core.StaleVersionError: 409,
    core.IdempotencyKeyReuseError: 409,
    core.IntegrityRuleError: 409,
    core.ClockDriftError: 422,
    core.UpcastError: 500,  # a declaration's upcaster fails on a stored event: say which
    NodeKeyError: 503,  # the node's key is not loaded: it cannot sign, so it writes nothing
}

TITLES = {
    400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Too large", 422: "Cannot process", 500: "Something went wrong",
    503: "Cannot write now",
}
PAGES = {400, 403, 404, 409, 500}  # the rest use errors/error.html
CSRF_REASON = ("The form's security token is missing or has expired. "
               "Go back, reload the page and submit it again.")


def status_for(exc: Exception) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def render_error(status: int, reason: str) -> tuple[str, int]:
    title = TITLES.get(status, "Error")
    if is_htmx():
        return render_template("errors/_fragment.html", status=status, title=title,
                               reason=reason), status
    page = f"errors/{status}.html" if status in PAGES else "errors/error.html"
    return render_template(page, status=status, title=title, reason=reason), status


def _http_error(exc: HTTPException) -> tuple[str, int]:
    if isinstance(exc, CSRFError):
        log_access("csrf_failed", logging.WARNING, detail=exc.description)
        return render_error(400, CSRF_REASON)
    if exc.code == 403:
        log_access("forbidden", logging.WARNING, user=getattr(current_user, "id", None))
    if isinstance(exc, InternalServerError):  # also every unhandled exception
        return render_error(500, "The error was logged. Please try again in a moment.")
    return render_error(exc.code or 500, exc.description or "")


def _core_error(exc: Exception) -> tuple[str, int]:
    return render_error(status_for(exc), str(exc))


def init_app(app: Flask) -> None:
    for kind in STATUS:
        app.register_error_handler(kind, _core_error)
    app.register_error_handler(HTTPException, _http_error)
