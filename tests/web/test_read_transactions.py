"""How a request's transaction ends (webapp/readends.py): a page that only read commits,
so PostgreSQL keeps the statements psycopg prepared on the connection; a request that
wrote and did not commit, whatever it answered, still rolls back what it wrote."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import abort, redirect
from werkzeug.wrappers import Response

from tests.support.sync_nodes import dispose, make_node
from webapp.extensions import db
from webapp.preferences.tables import user_preferences

pytestmark = pytest.mark.backends


@pytest.fixture
def app(backend, tmp_path):
    """The web fixtures (client, accounts, login) on this backend's database, with routes
    that write a row without committing it and then answer, as a faulty page might."""
    node = make_node(backend, "readends", tmp_path, keyed=False, WTF_CSRF_ENABLED=True)

    def write(user_id: str) -> None:
        db.session.execute(sa.insert(user_preferences).values(user_id=user_id,
                                                              time_zone="UTC"))

    @node.app.get("/test/write-then-200")
    def write_then_200() -> str:
        write("A" * 26)
        return "done"

    @node.app.get("/test/write-then-302")
    def write_then_302() -> Response:
        write("B" * 26)
        return redirect("/timeline")

    @node.app.get("/test/write-then-404")
    def write_then_404() -> str:
        write("C" * 26)
        abort(404)

    @node.app.get("/test/write-then-raise")
    def write_then_raise() -> str:
        write("D" * 26)
        raise RuntimeError("the page failed after writing")

    yield node.app
    dispose(node)


def _prepared(app) -> int:
    with app.app_context():  # the pool hands back the connection the pages used
        return db.session.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")
                                  ).scalar_one()


@pytest.mark.parametrize("backend", ["postgresql"])  # psycopg's prepared statements
def test_pages_keep_their_statements_prepared_on_postgresql(app, client, login, team):
    login("admin")  # the home page shows an admin more (peers, verification)
    for _ in range(8):  # psycopg prepares a statement on its fifth run on a connection
        for url in ("/timeline", f"/e/team/{team['id']}", "/"):
            assert client.get(url).status_code == 200
    assert _prepared(app) >= 5  # the reader's, the timeline page's, its lookups...


def test_a_page_that_only_reads_runs_one_transaction(app, client, login, team):
    """Each transaction costs two round trips (BEGIN, COMMIT) more; the home page ran
    three (the roll-up's check and the peer list each ended the page's)."""
    login("admin")
    assert client.get("/").status_code == 200  # the roll-up counts what is new, once
    begins: list[object] = []
    with app.app_context():
        engine = db.engine
    count = begins.append  # one bound method, to remove the listener by
    sa.event.listen(engine, "begin", count)
    try:
        for url in ("/", "/timeline", f"/e/team/{team['id']}", "/conflicts", "/nodes"):
            begins.clear()
            assert client.get(url).status_code == 200
            assert len(begins) == 1, url
    finally:
        sa.event.remove(engine, "begin", count)


@pytest.mark.parametrize("url, method, status", [
    ("/test/write-then-200", "GET", 200), ("/test/write-then-200", "HEAD", 200),
    ("/test/write-then-302", "GET", 302), ("/test/write-then-404", "GET", 404),
    ("/test/write-then-raise", "GET", 500)])
def test_a_page_that_wrote_without_committing_keeps_nothing(app, client, login, url, method,
                                                           status):
    """Whatever it answers: only a transaction that ran nothing but SELECTs commits."""
    login("viewer")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as a server would answer
    assert client.open(url, method=method).status_code == status
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(user_preferences)
                                  ).scalar_one() == 0
