"""Timeline filters: each narrows, they combine, they stay in the URL, bad ones get 400."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.web.timeline_helpers import all_events, event_ids, store_peer_event
from webapp.audit.commands import CreateRecord, UpdateRecord


@pytest.fixture
def world(app, run, accounts):
    """Events by the editor and the admin on this node, and one old event from a peer."""
    editor, admin = accounts["editor"].id, accounts["admin"].id
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}), user_id=editor).record
    run(UpdateRecord("team", team["id"], 1, {"name": "Red Team"}), user_id=admin)
    other = run(CreateRecord("team", {"slug": "blue", "name": "Blue"}), user_id=admin).record
    run(CreateRecord("setting", {"key": "mail.host", "value": "smtp"}), user_id=editor)
    peer = store_peer_event(app, datetime(2020, 1, 1, 12, 0))
    return {"team": team["id"], "other": other["id"], "peer": peer}


def _ids(client, query):
    response = client.get("/timeline?" + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return event_ids(response.get_data(as_text=True))


def _expected(app, keep):
    return [e.event_id for e in all_events(app) if keep(e)]


PEER = "peer-admin"  # the user id on the peer's event


@pytest.mark.parametrize("query, keep", [
    ("entity=team", lambda e, admin: e.entity == "team"),
    ("op=updated", lambda e, admin: e.op == "updated"),
    ("entity=team&op=created", lambda e, admin: e.entity == "team" and e.op == "created"),
    ("user=admin-user", lambda e, admin: e.user_id == admin),
    ("user=admin-user&entity=team&op=created",
     lambda e, admin: e.user_id == admin and e.entity == "team" and e.op == "created"),
    ("node=peer-eu", lambda e, admin: e.user_id == PEER),
    ("to=2020-12-31", lambda e, admin: e.user_id == PEER),
    ("from=2021-01-01&entity=team", lambda e, admin: e.entity == "team" and e.user_id != PEER),
    ("from=2020-01-01T11:59&to=2020-01-01T12:00", lambda e, admin: e.user_id == PEER),
    ("from=2020-01-01T12:00:01Z", lambda e, admin: e.user_id != PEER),
    ("to=2020-01-01T13:00:00%2B01:00", lambda e, admin: e.user_id == PEER),
])
def test_filters_narrow_and_combine(app, client, login, accounts, world, query, keep):
    login("viewer")
    expected = _expected(app, lambda e: keep(e, accounts["admin"].id))
    assert expected and len(expected) < len(all_events(app))
    assert _ids(client, query) == expected


def test_record_filter_finds_the_record_without_an_entity(app, client, login, world):
    login("viewer")
    expected = _expected(app, lambda e: e.record_id == world["team"])
    assert len(expected) == 2
    assert _ids(client, f"record={world['team'].lower()}") == expected
    assert _ids(client, f"record={world['team']}&user=admin-user") == expected[:1]


def test_record_filter_for_a_record_without_events_shows_nothing(client, login, world):
    login("viewer")
    assert _ids(client, "record=01J00000000000000000000000") == []


def test_node_filter_accepts_the_node_id_and_shows_the_node_name(client, login, world):
    login("viewer")
    peer = world["peer"]
    html = client.get(f"/timeline?node={peer.origin_node_id}").get_data(as_text=True)
    assert event_ids(html) == [peer.event_id]
    assert '<span class="event-node">peer-eu</span>' in html


def test_filter_form_keeps_its_values(client, login, world):
    login("viewer")
    html = client.get("/timeline?entity=team&op=updated&user=admin-user&from=2021-01-01"
                      ).get_data(as_text=True)
    assert '<option value="team" selected>' in html
    assert '<option value="updated" selected>' in html
    assert '<option value="admin-user" selected>' in html  # a choice of known users
    assert '<option value="editor-user">' in html
    assert 'name="from" value="2021-01-01T00:00"' in html  # as the date picker shows it
    assert html.count(" selected>") == 3  # the node select stays on "All"


@pytest.mark.parametrize("node", ["peer-eu", "id"])
def test_node_select_shows_the_node_given_by_name_or_id(client, login, world, node):
    login("viewer")
    peer_id = world["peer"].origin_node_id
    node = peer_id.lower() if node == "id" else node
    html = client.get(f"/timeline?node={node}").get_data(as_text=True)
    assert f'<option value="{peer_id}" selected>peer-eu</option>' in html


@pytest.mark.parametrize("query, reason", [
    ("entity=nope", "unknown entity"),
    ("op=renamed", "unknown operation"),
    ("from=yesterday", "is not a date or time"),
    ("to=2024-13-45", "is not a date or time"),
    ("from=2024-05-02&to=2024-05-01", "ends before it starts"),
    ("before=not-a-cursor", "cursor is not valid"),
    ("before=12.01J00000000000000000000000.xyz", "cursor is not valid"),
    ("record=robert');drop", "record id"),
    ("node=atlantis", "unknown node"),
    ("user=" + "u" * 300, "too long"),
])
def test_bad_filters_get_400_with_a_reason(client, login, world, query, reason):
    login("viewer")
    response = client.get("/timeline?" + query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert reason in html and 'role="alert"' in html
    assert event_ids(html) == []


def _user_options(html: str) -> str:
    start = html.index('<select name="user">')
    return html[start:html.index("</select>", start)]


def test_the_user_choice_follows_new_and_renamed_users_on_the_next_page(
        client, login, run, accounts):
    # The options are remembered per process under the list they show: a new or a
    # renamed user is in the very next page's list, and the selection follows the URL.
    login("viewer")
    first = _user_options(client.get("/timeline?user=editor-user").get_data(as_text=True))
    assert '<option value="editor-user" selected>' in first and "night-owl" not in first
    run(CreateRecord("user", {"username": "night-owl", "email": "owl@example.org",
                              "role": "viewer", "active": True, "password": "p" * 12,
                              "full_name": "Owl"}))
    run(UpdateRecord("user", accounts["editor"].id, 1, {"username": "day-editor"}))
    again = _user_options(client.get("/timeline?user=day-editor").get_data(as_text=True))
    assert '<option value="night-owl">night-owl</option>' in again
    assert '<option value="day-editor" selected>day-editor</option>' in again
    assert "editor-user" not in again
    plain = _user_options(client.get("/timeline").get_data(as_text=True))
    assert " selected" not in plain and '<option value="day-editor">' in plain
