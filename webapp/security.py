"""Response headers that hold on every page (CSP without inline script, HSTS over HTTPS,
no caching of what a signed-in user sees), Secure cookies outside development, and only
the static files the pages use."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, request

from .access import log as access_log

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"  # a year; only ever sent over HTTPS
# What static/ serves: our own css/ and js/, and of static/node_modules (filled by npm)
# only the vendored files base.html links. Not package.json, the lock file or the rest.
SERVED_DIRS = ("css/", "js/")
VENDORED = frozenset({
    "node_modules/@picocss/pico/css/pico.min.css",
    "node_modules/htmx.org/dist/htmx.min.js",
})


def init_app(app: Flask) -> None:
    access_log.configure()
    secure = secure_cookies(app)
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    if "static" in app.view_functions:
        app.view_functions["static"] = _only_served(app.view_functions["static"])

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:  # behind a proxy, HINDSIGHT_PROXY_HOPS makes this true
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            # Pages hold records, tokens and names: no browser or proxy keeps a copy.
            response.headers["Cache-Control"] = "no-store"
        return response


def secure_cookies(app: Flask) -> bool:
    """HINDSIGHT_SECURE_COOKIES if set; else Secure everywhere but under tests, debug and
    Flask's development server (`flask run`, plain HTTP on a developer's machine)."""
    chosen = app.config.get("HINDSIGHT_SECURE_COOKIES")
    if chosen is not None:
        return bool(chosen)
    dev_server = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    return not (app.testing or app.debug or dev_server)


def is_served(filename: str) -> bool:
    path = posixpath.normpath(filename)
    return path in VENDORED or (path.startswith(SERVED_DIRS) and ".." not in path.split("/"))


def _only_served(view: Callable[..., Any]) -> Callable[..., Any]:
    def static(filename: str) -> Any:
        if not is_served(filename):
            abort(404)
        return view(filename=filename)

    return static
