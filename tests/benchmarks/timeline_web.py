"""The timeline routes through the Flask test client, logged in as the bench admin."""

from __future__ import annotations

import secrets
import time
from typing import Any

import sqlalchemy as sa

from webapp.audit.commands import UpdateRecord
from webapp.audit.context import AuditContext, audit_context
from webapp.domain import users

from .dataset import Facts
from .history import ADMIN


def _app(url: sa.URL) -> Any:
    from webapp import create_app

    from .dataset import private_key_hex

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
        "SECRET_KEY": secrets.token_hex(16), "WTF_CSRF_ENABLED": False,
        "HINDSIGHT_NODE_KEY": private_key_hex(url),  # to sign the password change
    })


def _set_password(app: Any) -> str:
    """Give the bench admin a fresh random password (an audited update); return it."""
    from webapp.extensions import db
    from webapp.runtime import auditor

    password = secrets.token_urlsafe(16)
    with app.app_context(), audit_context(AuditContext(user_id="bench")):
        table = users.table
        row = db.session.execute(sa.select(table.c.id, table.c.version)
                                 .where(table.c.username == ADMIN)).one()
        auditor().execute(db.session(), UpdateRecord("user", row.id, row.version,
                                                     {"password": password}))
    return password


def bench_password(url: sa.URL) -> str:
    """A fresh password for the bench admin of the database at `url` (for a login over
    HTTP, by another process)."""
    app = _app(url)
    try:
        return _set_password(app)
    finally:
        from webapp.extensions import db

        with app.app_context():
            db.engine.dispose()


def _login(app: Any) -> Any:
    """Give the bench admin a fresh random password, log in with it."""
    password = _set_password(app)
    client = app.test_client()
    response = client.post("/login", data={"username": ADMIN, "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"bench login failed with {response.status_code}")
    return client


def measure_routes(url: sa.URL, facts: Facts, deep_cursor: str,
                   runs: int) -> dict[str, list[float]]:
    app = _app(url)
    client = _login(app)
    hot_entity, hot_id = facts.hot
    typical_entity, typical_id = facts.typical
    pages = {
        "GET /timeline": "/timeline",
        "GET /timeline?before=<90% deep>": f"/timeline?before={deep_cursor}",
        f"GET /timeline?record=<hot, {facts.hot_events} events>": f"/timeline?record={hot_id}",
        f"GET /e/{hot_entity}/<hot record>": f"/e/{hot_entity}/{hot_id}",
        f"GET /e/{typical_entity}/<typical record>": f"/e/{typical_entity}/{typical_id}",
        "GET /timeline?entity=team": "/timeline?entity=team",
        "GET /timeline?entity=user (rare)": "/timeline?entity=user",
        "GET /timeline?op=deleted (rare)": "/timeline?op=deleted",
    }
    out: dict[str, list[float]] = {}
    for name, path in pages.items():
        for _ in range(2):  # warm up: templates compiled, statements cached
            _get(client, path)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            _get(client, path)
            samples.append(time.perf_counter() - start)
        out[name] = samples
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
    return out


def _get(client: Any, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
