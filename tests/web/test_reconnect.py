"""Pages keep working when the database server drops the app's pooled connections (a
restart, a failover, an idle timeout): the pool finds a dead connection before a page
uses it and opens a new one, so no reader sees an error for it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support.databases import BACKENDS
from tests.support.sync_nodes import dispose, make_node
from webapp.audit.db import make_engine
from webapp.extensions import db

pytestmark = pytest.mark.backends


@pytest.fixture(params=[b for b in BACKENDS if b != "sqlite"])  # SQLite: no server
def backend(request):
    return request.param


@pytest.fixture
def app(backend, tmp_path):
    node = make_node(backend, "reconnect", tmp_path, keyed=False)
    yield node.app
    dispose(node)


def _drop_the_apps_connections(app) -> int:
    """End every other session on the app's database, as a server restart does; how many."""
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.dialect.name == "postgresql":
                return len(conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
            ids = conn.execute(sa.text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = DATABASE() AND id <> CONNECTION_ID()")).scalars().all()
            for session_id in ids:
                conn.execute(sa.text(f"KILL {int(session_id)}"))
            return len(ids)
    finally:
        admin.dispose()


def test_pages_survive_the_server_dropping_pooled_connections(client, login, team):
    login("viewer")
    for url in ("/timeline", f"/e/team/{team['id']}"):
        assert client.get(url).status_code == 200
    assert _drop_the_apps_connections(client.application) >= 1
    for url in ("/timeline", f"/e/team/{team['id']}", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Red" in response.get_data(as_text=True)
