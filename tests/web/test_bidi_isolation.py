"""A right-to-left name (or one with digits at its ends) set into our sentences is
isolated in a <bdi>, so it cannot reorder the words that follow it."""

from __future__ import annotations

from tests.web.entity_helpers import new_form
from tests.web.timeline_helpers import all_events
from webapp.audit.commands import CreateRecord

NAME = "\u05e9\u05dc\u05d5\u05dd 42"  # Hebrew "shalom", then digits


def test_a_saved_or_deleted_records_name_is_isolated_in_the_flash(client, login):
    login("editor")
    form = new_form(client)
    response = client.post("/e/team/new", data={**form, "slug": "rtl", "name": NAME},
                           follow_redirects=True)
    assert f"Team “<bdi>{NAME}</bdi>” created." in response.get_data(as_text=True)


def test_record_event_and_delete_pages_isolate_the_records_title(app, client, login, run):
    team = run(CreateRecord("team", {"slug": "rtl", "name": NAME})).record
    login("editor")
    record_page = client.get(f"/e/team/{team['id']}").get_data(as_text=True)
    assert f"<h1>Team <bdi>{NAME}</bdi>" in record_page
    delete_page = client.get(f"/e/team/{team['id']}/delete").get_data(as_text=True)
    assert f"“<bdi>{NAME}</bdi>”?" in delete_page
    event = next(e for e in all_events(app) if e.entity == "team")
    event_page = client.get(f"/events/{event.event_id}").get_data(as_text=True)
    assert f"<bdi>{NAME}</bdi></h1>" in event_page and "by <bdi>" in event_page

