"""How a request's transaction ends (webapp/readends.py): a page that only read commits,
so PostgreSQL keeps the statements psycopg prepared on the connection; a request that
failed, or answered an error, still rolls back whatever it left unflushed or unsent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import abort

from tests.support.sync_nodes import dispose, make_node
from webapp.extensions import db
from webapp.preferences.tables import user_preferences

pytestmark = pytest.mark.backends


@pytest.fixture
def app(backend, tmp_path):
    """The web fixtures (client, accounts, login) on this backend's database, with two
    routes that write a row and then answer an error, as a failing page might."""
    node = make_node(backend, "readends", tmp_path, keyed=False, WTF_CSRF_ENABLED=True)

    def write(user_id: str) -> None:
        db.session.execute(sa.insert(user_preferences).values(user_id=user_id,
                                                              time_zone="UTC"))

    @node.app.get("/test/write-then-404")
    def write_then_404() -> str:
        write("A" * 26)
        abort(404)

    @node.app.get("/test/write-then-raise")
    def write_then_raise() -> str:
        write("B" * 26)
        raise RuntimeError("the page failed after writing")

    yield node.app
    dispose(node)


def _prepared(app) -> int:
    with app.app_context():  # the pool hands back the connection the pages used
        return db.session.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")
                                  ).scalar_one()


@pytest.mark.parametrize("backend", ["postgresql"])  # psycopg's prepared statements
def test_pages_keep_their_statements_prepared_on_postgresql(app, client, login, team):
    login("viewer")
    for _ in range(8):  # psycopg prepares a statement on its fifth run on a connection
        for url in ("/timeline", f"/e/team/{team['id']}", "/"):
            assert client.get(url).status_code == 200
    assert _prepared(app) >= 5  # the reader's, the timeline page's, its lookups...


@pytest.mark.parametrize("url", ["/test/write-then-404", "/test/write-then-raise"])
def test_a_page_that_answers_an_error_keeps_nothing_it_wrote(app, client, login, url):
    login("viewer")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as a server would answer
    assert client.get(url).status_code in (404, 500)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(user_preferences)
                                  ).scalar_one() == 0
