"""A record's page: current state, version vector, its own timeline, the state as of any
event, and a deleted record's history."""

from __future__ import annotations

import pytest

from tests.web.timeline_helpers import (
    ESCAPED,
    SCRIPT,
    all_events,
    event_ids,
    follow_pages,
    next_link,
)
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord


@pytest.fixture
def team(run, accounts):
    editor = accounts["editor"].id
    record = run(CreateRecord("team", {"slug": "red", "name": "Red"}), user_id=editor).record
    run(UpdateRecord("team", record["id"], 1, {"name": "Red Team"}), user_id=editor)
    run(UpdateRecord("team", record["id"], 2, {"description": "Owns billing"}), user_id=editor)
    return record["id"]


def test_anonymous_visitor_is_sent_to_login(client, team):
    response = client.get(f"/e/team/{team}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_record_page_shows_state_version_and_own_timeline(app, client, login, team, role):
    login(role)
    html = client.get(f"/e/team/{team}").get_data(as_text=True)
    assert "Red Team" in html and "Owns billing" in html
    assert "Version <strong>3</strong>" in html
    assert "local</code>: 3" in html  # the version vector, by node name
    assert event_ids(html) == [e.event_id for e in all_events(app, record_id=team)]
    assert ("Revert to this version" in html) == (role != "viewer")
    assert (f"/e/team/{team}/edit" in html) == (role != "viewer")


def test_record_ids_are_case_insensitive(client, login, team):
    login("viewer")
    assert client.get(f"/e/team/{team.lower()}").status_code == 200


def test_state_as_of_an_event_shows_that_version(app, client, login, team):
    created = all_events(app, record_id=team)[-1]
    login("viewer")
    html = client.get(f"/e/team/{team}?at={created.event_id}").get_data(as_text=True)
    at = html[html.index('id="state-at"'):html.index('id="history-heading"')]
    assert "State as of" in at and '<span class="diff-value">Red</span>' in at
    assert "<del><span class=\"diff-value\">Red Team</span></del>" in at  # vs current
    assert "Revert to this version" not in at  # viewers cannot revert


def test_deleted_record_keeps_its_page_history_and_last_state(app, client, login, run, team):
    run(DeleteRecord("team", team, 3))
    login("editor")
    response = client.get(f"/e/team/{team}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<span class="badge badge-deleted">deleted</span>' in html
    assert "Last state before the delete" in html and "Red Team" in html
    assert len(event_ids(html)) == 4
    assert "Revert to this version" not in html  # nothing to update any more
    deletion = all_events(app, record_id=team)[0]
    at = client.get(f"/e/team/{team}?at={deletion.event_id}").get_data(as_text=True)
    assert "the state it deleted" in at and "Owns billing" in at


def test_record_timeline_pages_with_keyset_links(app, client, login, run, team):
    for n in range(4):
        run(UpdateRecord("team", team, 3 + n, {"name": f"Red {n}"}))
    app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 3
    login("viewer")
    pages = follow_pages(client, f"/e/team/{team}")
    assert len(pages) == 3  # seven events, three a page
    seen = [event_id for _, html in pages for event_id in event_ids(html)]
    assert seen == [e.event_id for e in all_events(app, record_id=team)]
    more = client.get(next_link(client.get(f"/e/team/{team}").get_data(as_text=True)),
                      headers={"HX-Request": "true", "HX-Target": "record-more"})
    assert more.get_data(as_text=True).lstrip().startswith("<li")


def test_script_in_a_field_is_escaped_on_the_record_page(client, login, run):
    record = run(CreateRecord("team", {"slug": "x", "name": SCRIPT})).record
    run(UpdateRecord("team", record["id"], 1, {"description": SCRIPT}))
    login("viewer")
    html = client.get(f"/e/team/{record['id']}").get_data(as_text=True)
    assert SCRIPT not in html and ESCAPED in html


def test_user_record_page_never_shows_a_password_hash(client, login, accounts, run):
    result = run(UpdateRecord("user", accounts["viewer"].id, 1, {"password": "another long one"}))
    login("admin")
    html = client.get(f"/e/user/{accounts['viewer'].id}").get_data(as_text=True)
    assert "(hidden)" in html
    assert result.record["password"] not in html
    assert result.event.pre_state["password"] not in html


@pytest.mark.parametrize("path, status", [
    ("/e/nope/01J00000000000000000000000", 404),
    ("/e/team/not-a-ulid", 404),
    ("/e/team/01J00000000000000000000000", 404),
    ("/e/team/{team}?at=01J00000000000000000000000", 404),
    ("/e/team/{team}?at=garbage", 404),
    ("/e/team/{team}?before=garbage", 400),
])
def test_bad_record_urls_are_refused(client, login, team, path, status):
    login("viewer")
    assert client.get(path.format(team=team)).status_code == status


def test_event_of_another_record_is_not_shown_as_this_ones_state(app, client, login, run, team):
    other = run(CreateRecord("team", {"slug": "blue", "name": "Blue"}))
    login("viewer")
    assert client.get(f"/e/team/{team}?at={other.event.event_id}").status_code == 404


def test_system_columns_are_not_shown_as_fields_nor_emptied_by_a_revert_preview(
        app, client, login, team):
    import re

    created = all_events(app, record_id=team)[-1]
    login("editor")
    html = client.get(f"/e/team/{team}?at={created.event_id}").get_data(as_text=True)
    current = html[html.index('class="record-current"'):html.index('id="state-at"')]
    headers = re.findall(r'<th scope="row">([^<]+)', current)
    assert headers == ["Slug", "Name", "Description"], headers
    at = html[html.index('id="state-at"'):html.index('id="history-heading"')]
    for internal in ("hlc", "origin_node_id", "version", "vv"):
        assert f'<th scope="row">{internal}' not in at, internal
