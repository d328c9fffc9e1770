"""Browser tests: a live server (werkzeug, in a thread, on a free port, on a temp SQLite
file) and a real headless Chromium through Playwright's sync API.

When Chromium cannot start the tests skip locally, and FAIL when
HINDSIGHT_REQUIRE_BROWSER=1 (as CI sets it): a browser test that did not run is not a pass.
The server lives for the whole session, so tests make their own uniquely named data."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.web.helpers import sqlite_app
from webapp.audit.commands import Command, CommandResult, CreateRecord
from webapp.audit.context import AuditContext, audit_context
from webapp.domain import ROLES
from webapp.extensions import db
from webapp.runtime import auditor

CHROMIUM = os.environ.get("HINDSIGHT_CHROMIUM", "/usr/bin/chromium")  # Debian's, never downloaded
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class LiveServer:
    url: str
    app: Flask
    passwords: dict[str, str] = field(default_factory=dict)  # username -> password
    ids: dict[str, str] = field(default_factory=dict)  # username -> user record id

    def run(self, command: Command, user: str | None = None) -> CommandResult:
        """Execute a command on the server's database, as `user` (a username)."""
        who = self.ids.get(user or "", user or "e2e")
        with self.app.app_context(), audit_context(AuditContext(user_id=who)):
            return auditor().execute(db.session(), command)


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("HINDSIGHT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium did not start and HINDSIGHT_REQUIRE_BROWSER=1: {reason}")
    pytest.skip(f"Chromium not available: {reason}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _browser_unavailable(str(exc))
    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means no browser
        manager.stop()
        _browser_unavailable(str(exc).splitlines()[0] if str(exc) else repr(exc))
    yield launched
    launched.close()
    manager.stop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("e2e") / "live.sqlite3"
    # Plain HTTP on 127.0.0.1, as `flask run` serves: no Secure cookies.
    with sqlite_app(path, TESTING=False, HINDSIGHT_SECURE_COOKIES=False) as app:
        server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        live = LiveServer(f"http://127.0.0.1:{server.server_port}", app)
        for username, role in [(r, r) for r in ROLES] + [("editor2", "editor")]:
            password = secrets.token_urlsafe(12)
            record = live.run(CreateRecord("user", {
                "username": username, "email": f"{username}@example.com", "role": role,
                "active": True, "password": password})).record
            assert record is not None
            live.passwords[username], live.ids[username] = password, record["id"]
        yield live
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """new_page(): a page in a fresh browser context (its own cookies); closed after."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture
def login(live_server: LiveServer) -> Callable[..., Any]:
    """login(page, username='editor'): log in through the form; returns the page."""

    def do_login(page: Any, username: str = "editor") -> Any:
        page.goto(live_server.url + "/login")
        page.fill("#username", username)
        page.fill("#password", live_server.passwords[username])
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        return page

    return do_login


@pytest.fixture
def unique() -> str:
    """A short suffix that makes names unique on the shared live server."""
    return secrets.token_hex(3)
