"""Fixtures for Flask test-client tests: an app on a temp SQLite file with CSRF on, one
account per role, a team, and helpers to log in, read a CSRF token and count change events.

Never hold an app context open around a test-client request: the request would reuse it
and its database session, and see stale data. Each helper opens its own short one."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.web.helpers import csrf_from, sqlite_app
from webapp.audit.commands import Command, CommandResult, CreateRecord
from webapp.audit.context import AuditContext, audit_context
from webapp.audit.tables import change_events
from webapp.domain import ROLES
from webapp.extensions import db
from webapp.runtime import auditor


@dataclass(frozen=True)
class TestAccount:
    __test__ = False  # not a test class, despite the name
    id: str
    username: str
    password: str
    role: str


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    with sqlite_app(tmp_path / "web.sqlite3") as flask_app:
        yield flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def run(app: Flask) -> Callable[..., CommandResult]:
    """run(command, user_id=None): execute a command through the app's Auditor, as the
    web layer would, outside any request."""

    def execute(command: Command, user_id: str | None = None) -> CommandResult:
        with app.app_context(), audit_context(AuditContext(user_id=user_id or "test")):
            return auditor().execute(db.session(), command)  # the Session, not its scoped proxy

    return execute


@pytest.fixture
def accounts(run: Callable[..., CommandResult]) -> dict[str, TestAccount]:
    """One active account per role: accounts['viewer'|'editor'|'admin']."""
    made = {}
    for role in ROLES:
        password = secrets.token_urlsafe(12)
        result = run(CreateRecord("user", {
            "username": f"{role}-user", "email": f"{role}@example.org", "role": role,
            "active": True, "password": password, "full_name": f"The {role}",
        }))
        made[role] = TestAccount(result.record["id"], f"{role}-user", password, role)
    return made


@pytest.fixture
def team(run: Callable[..., CommandResult]) -> dict[str, Any]:
    """A team record at version 1: slug red, name Red, description "Old text"."""
    record = run(CreateRecord("team", {"slug": "red", "name": "Red",
                                       "description": "Old text"})).record
    assert record is not None
    return record


@pytest.fixture
def csrf_token(client: FlaskClient) -> Callable[..., str]:
    """csrf_token(url='/login', client=None): GET a page and return its CSRF token."""

    def fetch(url: str = "/login", on: FlaskClient | None = None) -> str:
        response = (on or client).get(url)
        assert response.status_code == 200, (url, response.status_code)
        return csrf_from(response.get_data(as_text=True))

    return fetch


@pytest.fixture
def login(client: FlaskClient, accounts: dict[str, TestAccount],
          csrf_token: Callable[..., str]) -> Callable[..., TestAccount]:
    """login('viewer'|'editor'|'admin', on=None): log a test client in through the real
    login form (CSRF included; logging out whoever was logged in) and return the account."""

    def do_login(role: str = "editor", on: FlaskClient | None = None) -> TestAccount:
        target = on or client
        account = accounts[role]
        if target.get("/login").status_code == 302:  # someone is logged in: switch users
            target.post("/logout", data={"csrf_token": csrf_token("/", target)})
        token = csrf_token("/login", target)
        response = target.post("/login", data={
            "username": account.username, "password": account.password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return account

    return do_login


@pytest.fixture
def event_count(app: Flask) -> Callable[[], int]:
    """event_count(): how many change events the database holds now."""

    def count() -> int:
        with app.app_context():
            return int(db.session.execute(
                sa.select(sa.func.count()).select_from(change_events)).scalar_one())

    return count
