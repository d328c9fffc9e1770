"""The global timeline: login and roles, newest-first order, escaping, keyset pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.web.timeline_helpers import (
    ESCAPED,
    SCRIPT,
    all_events,
    event_ids,
    follow_pages,
    next_link,
)
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.extensions import db


@pytest.fixture
def history(run, accounts):
    """A team edited twice and a setting created and deleted, by the editor."""
    editor = accounts["editor"].id
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}), user_id=editor).record
    run(UpdateRecord("team", team["id"], 1, {"name": "Red Team"}), user_id=editor)
    run(UpdateRecord("team", team["id"], 2, {"description": "Owns the billing pipeline"}),
        user_id=editor)
    setting = run(CreateRecord("setting", {"key": "mail.host", "value": "smtp"}),
                  user_id=editor).record
    run(DeleteRecord("setting", setting["id"], 1), user_id=editor)
    return {"team": team["id"], "setting": setting["id"]}


@pytest.mark.parametrize("url", ["/timeline", "/timeline?entity=team",
                                 "/events/01J00000000000000000000000"])
def test_anonymous_visitor_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_reads_the_timeline(client, login, history, role):
    login(role)
    response = client.get("/timeline")
    assert response.status_code == 200
    assert "Red Team" in response.get_data(as_text=True)


def test_timeline_lists_events_newest_first_in_hlc_order(app, client, login, history):
    login("viewer")
    shown = event_ids(client.get("/timeline").get_data(as_text=True))
    newest_first = sorted(all_events(app), reverse=True,
                          key=lambda e: (e.hlc, e.origin_node_id, e.event_id))
    assert len(shown) == 9  # three accounts, three team and two setting events, the login
    assert shown == [e.event_id for e in newest_first]


def test_each_event_shows_op_user_node_and_compact_diff(client, login, history):
    login("viewer")
    html = client.get("/timeline?entity=team&op=updated").get_data(as_text=True)
    assert html.count('<span class="badge op op-updated">updated</span>') == 2
    assert '<span class="event-user">editor-user</span>' in html  # username, not the id
    assert '<span class="event-node">local</span>' in html
    assert '<span class="event-summary">Name: Red → Red Team</span>' in html
    assert "<del>" not in html  # the diff opens on demand (test_timeline_dense.py)
    assert re.search(r"<time datetime=\"[^\"]+Z\">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>",
                     html)  # the reader's zone: UTC until chosen otherwise


def test_script_in_a_field_is_escaped_on_the_timeline(client, login, run):
    team = run(CreateRecord("team", {"slug": "x", "name": SCRIPT})).record
    run(UpdateRecord("team", team["id"], 1, {"name": "safe", "description": SCRIPT * 3}))
    login("viewer")
    html = client.get("/timeline").get_data(as_text=True)
    assert SCRIPT not in html
    assert ESCAPED in html
    update = event_ids(client.get("/timeline?entity=team&op=updated").get_data(as_text=True))
    diff = client.get(f"/events/{update[0]}/diff",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert SCRIPT not in diff and ESCAPED in diff


def test_keyset_pages_return_every_event_exactly_once(app, client, login, run, history):
    for n in range(6):
        run(CreateRecord("team", {"slug": f"t{n}", "name": f"Team {n}"}))
    app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 4
    login("viewer")
    pages = follow_pages(client, "/timeline")
    seen = [event_id for _, html in pages for event_id in event_ids(html)]
    expected = [e.event_id for e in all_events(app)]
    assert seen == expected and len(set(seen)) == len(seen)
    assert len(pages) == -(-len(expected) // 4)


def test_older_pages_keep_the_filters_in_their_links(app, client, login, run, history):
    for n in range(5):
        run(CreateRecord("team", {"slug": f"t{n}", "name": f"Team {n}"}))
    app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 2
    login("viewer")
    pages = follow_pages(client, "/timeline?entity=team&op=created")
    assert len(pages) == 3
    assert all("entity=team" in url and "op=created" in url for url, _ in pages)
    seen = [event_id for _, html in pages for event_id in event_ids(html)]
    assert seen == [e.event_id for e in all_events(app, entity="team", op="created")]
    assert len(seen) == 6


def test_empty_timeline_says_so(client, login):
    login("viewer")
    html = client.get("/timeline?entity=project").get_data(as_text=True)
    assert "No events match these filters." in html


def test_timeline_page_does_not_count_rows(app, client, login, history):
    """Keyset paging: the page asks for one row more than it shows, never COUNT(*); and
    the node names are read once per page, not once per row or per part."""
    app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 2
    statements: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, *args):
        statements.append((statement, tuple(parameters)))

    with app.app_context():
        engine = db.engine
    login("viewer")
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        html = client.get("/timeline?entity=team").get_data(as_text=True)
        client.get(next_link(html) or "/timeline?entity=team")
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # Node names ride on the reader's statement (one per page), never one of their own.
    assert sum("FROM nodes" in s for s, _ in statements) == 2
    assert not any(s.lstrip().startswith("SELECT nodes.") for s, _ in statements)
    timeline_sql = [(s, p) for s, p in statements if "FROM change_events" in s]
    assert timeline_sql and not any("count(" in s.lower() for s, _ in timeline_sql)
    # SQLite spells every LIMIT as "LIMIT ? OFFSET ?"; the offset must stay 0.
    assert all(p[-1] == 0 for s, p in timeline_sql if "OFFSET" in s)
