"""Pages make their every-view reads along with the reader's statement (webapp/along.py):
the timeline its filter's known users and compacted origins, the home page its roll-up
state, a record page its record. No statement of their own reads them; what did not
read back for sure is read apart, and the page is the same either way; on every
backend."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.support.sync_nodes import dispose, make_node
from webapp import along
from webapp.audit import joined
from webapp.audit.commands import CreateRecord
from webapp.audit.compaction.tables import compaction_origins
from webapp.extensions import db

pytestmark = pytest.mark.backends
CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def app(backend, tmp_path):
    """The web fixtures (client, accounts, login) on this backend's database, with an
    origin compacted, for the timeline's note."""
    node = make_node(backend, "along", tmp_path, keyed=False)
    with node.app.app_context():
        db.session.execute(sa.insert(compaction_origins).values(
            origin_node_id="01J00000000000000000000001", start_hash="0" * 64,
            start_hlc=1 << 40, start_event_id="01J00000000000000000000009", removed=3))
        db.session.commit()
    yield node.app
    dispose(node)


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return CSRF.sub("", response.get_data(as_text=True))


def test_the_timeline_reads_its_users_and_compaction_along(client, login, run, accounts,
                                                           statements):
    run(CreateRecord("team", {"slug": "red", "name": "Red"}), user_id=accounts["editor"].id)
    login("viewer")
    statements.clear()
    html = _page(client, "/timeline")
    options = re.search(r'<select name="user"[^>]*>(.*?)</select>', html, re.S)
    assert options is not None
    for account in accounts.values():  # every known user to choose from
        assert f">{account.username}</option>" in options.group(1)
    reader = [s for s in statements if "user_sessions" in s]
    assert len(reader) == 1
    others = [s for s in statements if s not in reader]
    assert not any("compaction_origins" in s or "ORDER BY users.username" in s
                   for s in others)
    # The reader's, and the page of events with their authors beside (beside.py): the
    # rows name no other record and no event is a side of a conflict, so no labels.
    assert len(statements) == 2


def test_a_record_page_whose_fields_came_from_its_rows_reads_no_labels(
        client, login, run, accounts, statements):
    """Its record and compaction generation ride on the reader's statement; its events
    come with their authors and sides; the events its fields came from are among them."""
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}),
               user_id=accounts["editor"].id).record
    login("viewer")
    _page(client, f"/e/team/{team['id']}")  # the fields' sources remembered
    statements.clear()
    html = _page(client, f"/e/team/{team['id']}")
    assert accounts["editor"].username in html
    # The reader's, the events, and (its whole history being on the page) whether any
    # of it was compacted away: no users' names, titles or conflict marks apart.
    assert len(statements) == 3, statements
    assert any("compacted_records" in s for s in statements)


def test_a_record_page_titles_its_references_with_its_rows_labels(client, login, run,
                                                                  statements):
    """The fields table names the project's team, as its history rows do: one read."""
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    project = run(CreateRecord("project", {"name": "Apollo", "team_id": team["id"],
                                           "status": "planned"})).record
    login("viewer")
    statements.clear()
    html = _page(client, f"/e/project/{project['id']}")
    assert f'href="/e/team/{team["id"]}">Red</a>' in html
    labels = [s for s in statements if "JOIN conflicts" in s]
    assert len(labels) == 1, labels


@pytest.mark.parametrize("url", ["/e/team/not-a-ulid", "/e/access/01J00000000000000000000000",
                                 "/e/nope/01J00000000000000000000000"])
def test_a_record_url_the_view_refuses_reads_no_record_along(client, login, statements, url):
    login("viewer")
    statements.clear()
    assert client.get(url).status_code == 404
    reader = [s for s in statements if "user_sessions" in s]
    assert len(reader) == 1 and "along_record" not in reader[0]


def test_the_timelines_htmx_blocks_read_no_users_along(client, login, run, accounts,
                                                       statements):
    """The rows and results blocks that HTMX asks for show no filter form: their reader's
    statement carries the compacted origins but not the known users."""
    run(CreateRecord("team", {"slug": "red", "name": "Red"}), user_id=accounts["editor"].id)
    login("viewer")
    for target in ("timeline-more", "timeline-results"):
        statements.clear()
        response = client.get("/timeline", headers={"HX-Request": "true", "HX-Target": target})
        assert response.status_code == 200
        assert "<select" not in response.get_data(as_text=True)
        reader = [s for s in statements if "user_sessions" in s]
        assert len(reader) == 1 and "compaction_origins" in reader[0]
        assert not any("ORDER BY users.username" in s for s in statements)


def test_home_reads_its_roll_up_state_along(client, login, statements):
    login("admin")
    _page(client, "/")  # counts what is new once
    statements.clear()
    _page(client, "/")
    reader = [s for s in statements if "user_sessions" in s]
    assert len(reader) == 1 and "activity_state" in reader[0]
    assert not any("activity_state" in s for s in statements if s not in reader)


# What each page reads along (as its statements name it), by URL.
READ_ALONG = {"/timeline": ("compaction_origins", "ORDER BY users.username"),
              "/": ("activity_state",),
              "/e/team/{team}": ("compaction_runs", "teams.version"),  # the record itself
              "/e/user/{user}": ("compaction_runs", "users.version")}


@pytest.mark.parametrize("url", list(READ_ALONG))
def test_what_does_not_read_back_is_read_apart_to_the_same_page(
        client, login, run, accounts, statements, monkeypatch, url):
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}),
               user_id=accounts["editor"].id).record
    reads, url = READ_ALONG[url], url.format(team=team["id"], user=accounts["viewer"].id)
    login("admin")
    _page(client, url)  # the home page's roll-up counts what is new once
    statements.clear()
    together = _page(client, url)
    if url == "/timeline":  # the note, from the origin read along
        assert "The oldest history was compacted" in together
    count = len(statements)
    # As when MySQL cuts an aggregated text short, or as if nothing rode along.
    monkeypatch.setattr(joined, "split", lambda row, label: None)
    statements.clear()
    assert _page(client, url) == together
    assert len(statements) > count
    monkeypatch.setattr(along, "asked", lambda: ((), {}))
    statements.clear()
    assert _page(client, url) == together
    # Each read the page made along now runs apart, outside the reader's statement.
    apart = [s for s in statements if "user_sessions" not in s]
    for read in reads:
        assert any(read in s for s in apart), read
