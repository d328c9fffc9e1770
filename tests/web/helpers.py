"""Small helpers for Flask test-client tests: an app on its own SQLite file, and forms
read out of rendered HTML."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask

from webapp import create_app
from webapp.extensions import db
from webapp.schema import metadata


@contextmanager
def sqlite_app(path: Path, **config: Any) -> Iterator[Flask]:
    """An app on a new SQLite file with every table, CSRF on; its engine closed after."""
    with database_app(f"sqlite:///{path}", **config) as app:
        yield app


@contextmanager
def database_app(url: str, **config: Any) -> Iterator[Flask]:
    """An app on the empty database at `url` with every table, CSRF on."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "WTF_CSRF_ENABLED": True, "SECRET_KEY": secrets.token_hex(16), **config})
    with app.app_context():
        metadata.create_all(db.engine)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class _Forms(HTMLParser):
    """Collects each <form>'s attributes and its fields' current values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, object]] = []
        self._form: dict[str, object] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"attrs": a, "values": {}}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        values: dict[str, str] = self._form["values"]  # type: ignore[assignment]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    values[name] = a.get("value", "y")
            elif kind not in ("submit", "button"):
                values[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            values[name] = ""
        elif tag == "select" and name:
            self._select = name
            values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            values[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            values: dict[str, str] = self._form["values"]  # type: ignore[assignment]
            values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._form is not None and self._textarea:
            # Like a browser: one newline right after <textarea> is not part of the value.
            values: dict[str, str] = self._form["values"]  # type: ignore[assignment]
            text = values[self._textarea]
            values[self._textarea] = text[2:] if text.startswith("\r\n") else (
                text[1:] if text.startswith("\n") else text)
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[dict[str, object]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_values(html: str, action_contains: str = "", method: str = "post") -> dict[str, str]:
    """The field values of the first form whose method matches and whose action contains
    `action_contains` (so the nav bar's logout form is not picked by mistake)."""
    for form in forms(html):
        attrs: dict[str, str] = form["attrs"]  # type: ignore[assignment]
        if attrs.get("method", "get").lower() != method:
            continue
        if action_contains and action_contains not in attrs.get("action", ""):
            continue
        if not action_contains and "/logout" in attrs.get("action", ""):
            continue
        return dict(form["values"])  # type: ignore[arg-type]
    raise AssertionError(f"no {method} form with action containing {action_contains!r}")


def csrf_from(html: str) -> str:
    """The first CSRF token on a page (every POST form carries the same session token)."""
    for form in forms(html):
        token = form["values"].get("csrf_token")  # type: ignore[union-attr]
        if token:
            return str(token)
    raise AssertionError("no csrf_token on the page")
