"""A record whose early history was compacted: its page says where history stops and
what the state was then, the as-of view of a removed event says why it is gone, and a
revert to a removed version is refused with that reason, writing nothing."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.helpers import form_values
from webapp.audit.commands import CreateRecord, UpdateRecord


@pytest.fixture
def compacted(app, run, client, login, tmp_path):
    """A team created and renamed, then snapshot and compacted (no peers: nothing
    waits), then renamed again; the revert form to its first version, loaded before."""
    app.config["HINDSIGHT_SNAPSHOT_DIR"] = str(tmp_path / "snapshots")
    made = run(CreateRecord("team", {"slug": "red", "name": "Red", "description": "one"}))
    team = made.record["id"]
    run(UpdateRecord("team", team, 1, {"name": "Red Team"}))
    login("editor")
    html = client.get(f"/e/team/{team}").get_data(as_text=True)
    form = form_values(html, f"/revert/{made.event.event_id}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "snapshot", "--quiet"]).exit_code == 0
    done = runner.invoke(args=["audit", "compact", "--quiet"])
    assert done.exit_code == 0 and "removed" in done.output, done.output
    run(UpdateRecord("team", team, 2, {"name": "Red Squad"}))
    return team, made.event.event_id, form


def test_the_record_page_says_where_history_was_compacted(client, compacted):
    team, _, _ = compacted
    html = client.get(f"/e/team/{team}").get_data(as_text=True)
    history = html[html.index('id="history-heading"'):]
    assert "History before " in history and "was compacted on this node; state then was:" \
        in history
    note = history[history.index("history-compacted"):]
    assert "Red Team" in note and "Red Squad" not in note


def test_the_as_of_view_of_a_compacted_event_says_why_it_is_gone(client, compacted):
    team, created, _ = compacted
    response = client.get(f"/e/team/{team}?at={created}")
    assert response.status_code == 410
    assert "was compacted on this node" in response.get_data(as_text=True)


def test_a_revert_to_a_compacted_version_is_refused_and_writes_nothing(
        client, compacted, event_count):
    team, created, form = compacted
    before = event_count()
    response = client.post(f"/e/team/{team}/revert/{created}", data=form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "That version cannot be reverted to: history before" in page
    assert "Nothing was written" in page and event_count() == before


def test_the_timeline_says_whose_history_was_compacted_up_to_when(client, compacted):
    html = client.get("/timeline").get_data(as_text=True)
    assert "The oldest history was compacted" in html
    assert "local&#39;s events up to " in html or "local's events up to " in html


def test_the_note_closes_the_history_on_its_last_page_with_and_without_javascript(
        app, run, client, compacted):
    team, created, _ = compacted
    for version, name in ((3, "Red Crew"), (4, "Red Guard")):
        run(UpdateRecord("team", team, version, {"name": name}))
    app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 2  # three kept events: two pages
    first = client.get(f"/e/team/{team}").get_data(as_text=True)
    assert "history-compacted" not in first and "Red Guard" in first
    older = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert older
    url = html.unescape(older.group(1))
    last = client.get(url).get_data(as_text=True)  # without JavaScript: the next page
    listed = last[last.index('<ol class="timeline">'):last.index("</ol>")]
    assert listed.count('class="event ') == 1 and "Red Squad" in listed
    note = listed[listed.index('<li class="history-compacted"'):]
    assert "was compacted on this node" in note and "Red Team" in note
    block = client.get(url, headers={"HX-Request": "true", "HX-Target": "record-more"})
    rows = block.get_data(as_text=True)  # with HTMX: the rows that replace "Older events"
    assert "Red Squad" in rows and '<li class="history-compacted"' in rows
    assert rows.rstrip().endswith("</li>") and "<ol" not in rows
    # The as-of view of a removed event says why from any page.
    assert client.get(f"/e/team/{team}?at={created}").status_code == 410
