"""One event's page: every field of the event, both diffs, escaping and redaction."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.web.helpers import form_values
from tests.web.timeline_helpers import ESCAPED, SCRIPT, all_events, store_peer_event
from webapp.audit.commands import CreateRecord, UpdateRecord

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_event_page_shows_every_field_of_the_event(app, client, login, run):
    account = login("editor")
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    # An edit through a real request, so the request's audit context is recorded.
    url = f"/e/team/{team['id']}/edit"
    data = form_values(client.get(url).get_data(as_text=True), "/edit")
    response = client.post(url, data={**data, "name": "Red Team"},
                           headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-42"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    event = all_events(app)[0]
    assert event.op == "updated", "the edit form did not write an update"
    html = client.get(f"/events/{event.event_id}").get_data(as_text=True)
    for shown in (event.event_id, event.idempotency_key, event.hash, event.prev_hash,
                  event.record_id, "req-42", "4bf92f3577b34da6a3ce929d0e0e4736",
                  "00f067aa0ba902b7", event.session_id, "127.0.0.1", account.username,
                  str(event.hlc), "counter", "Version vector before", "local</code>: 1",
                  "local</code>: 2"):
        assert shown and shown in html, shown
    assert "Red Team" in html and "changed as asked" in html


def test_event_page_escapes_script_in_values_and_diffs(client, login, run):
    team = run(CreateRecord("team", {"slug": "x", "name": "Plain"})).record
    long_text = "A description that is long enough for an inline diff of words " + SCRIPT
    result = run(UpdateRecord("team", team["id"], 1, {"name": SCRIPT, "description": long_text}))
    login("viewer")
    html = client.get(f"/events/{result.event.event_id}").get_data(as_text=True)
    assert SCRIPT not in html
    assert f"<ins><span class=\"diff-value\">{ESCAPED}</span></ins>" in html  # state diff
    assert f"<span class=\"diff-value\">{ESCAPED}</span>" in html  # asked column


def test_inline_word_diff_for_long_text(client, login, run):
    old = "The team owns the billing pipeline and the invoice mailer for all regions"
    new = "The team owns the billing pipeline and the payment mailer for all regions"
    team = run(CreateRecord("team", {"slug": "x", "name": "X", "description": old})).record
    result = run(UpdateRecord("team", team["id"], 1, {"description": new}))
    login("viewer")
    html = client.get(f"/events/{result.event.event_id}").get_data(as_text=True)
    assert '<div class="inline-diff inline-diff-words">' in html
    assert "<del>invoice</del><ins>payment</ins>" in html


def test_secret_fields_are_hidden_on_the_event_page(client, login, run, accounts):
    result = run(UpdateRecord("user", accounts["viewer"].id, 1,
                              {"password": "a new long password"}))
    login("admin")
    html = client.get(f"/events/{result.event.event_id}").get_data(as_text=True)
    assert "(hidden)" in html
    assert result.event.post_state["password"] not in html
    assert result.event.pre_state["password"] not in html


def test_field_changed_without_being_asked_for_is_marked(app, client, login):
    """As an LWW merge can produce: the command asked for the name only, yet the
    description changed too."""
    pre = {"id": "01J0000000000000000000000R", "slug": "p", "name": "A", "description": "x"}
    post = {**pre, "name": "B", "description": "merged from elsewhere"}
    peer = store_peer_event(app, datetime(2021, 3, 1), op="updated", record_id=pre["id"],
                            params={"name": "B"}, pre_state=pre, post_state=post)
    login("viewer")
    html = client.get(f"/events/{peer.event_id}").get_data(as_text=True)
    assert html.count('<tr class="diff-changed diff-unrequested">') == 2  # both diffs
    assert "changed without being asked" in html and "not requested" in html
    assert "peer-eu" in html  # the origin node's name
    diff = client.get(f"/events/{peer.event_id}/diff", headers={"HX-Request": "true"})
    assert '<tr class="diff-changed diff-unrequested">' in diff.get_data(as_text=True)


def test_event_ids_are_case_insensitive(client, login, run):
    result = run(CreateRecord("team", {"slug": "x", "name": "X"}))
    login("viewer")
    html = client.get(f"/events/{result.event.event_id.lower()}").get_data(as_text=True)
    assert f"<code>{result.event.event_id}</code>" in html


@pytest.mark.parametrize("event_id", ["01J00000000000000000000000", "not-an-id", "x" * 300])
def test_unknown_or_malformed_event_is_404(client, login, event_id):
    login("viewer")
    assert client.get(f"/events/{event_id}").status_code == 404


def test_event_page_says_what_proves_the_event_is_its_origins(app, client, login, run):
    from webapp.audit.keygen import give_key
    from webapp.audit.keys import new_private_key
    from webapp.extensions import db
    from webapp.runtime import auditor

    login("viewer")
    before = run(CreateRecord("team", {"slug": "old", "name": "Old"})).event
    html = client.get(f"/events/{before.event_id}").get_data(as_text=True)
    assert "Hash chain only" in html  # this node had no key yet
    with app.app_context():
        give_key(db.session(), auditor().node_id, new_private_key())  # signs the head
        first, last = auditor().execute_all(db.session(), [
            CreateRecord("team", {"slug": "one", "name": "One"}),
            CreateRecord("team", {"slug": "two", "name": "Two"})])
    shown = {e.event_id: client.get(f"/events/{e.event_id}").get_data(as_text=True)
             for e in (before, first.event, last.event)}
    assert "Signed by its origin" in shown[last.event.event_id]
    assert f'href="/events/{last.event.event_id}"' in shown[first.event.event_id]
    assert "Covered by its origin" in shown[first.event.event_id]
    # The key given later signed the chain's head then (this event), which covers
    # every older event of the chain through the hash links.
    assert "Signed by its origin" in shown[before.event_id]


def test_an_event_whose_upcaster_fails_gets_a_page_naming_it(client, login, run,
                                                              monkeypatch):
    """A declaration bug (team at v2 with an upcaster that fails on its v1 events): the
    event's page says which upcaster failed on which event, not a bare error."""
    from webapp.domain import registry

    made = run(CreateRecord("team", {"slug": "up", "name": "Up"})).event
    team = registry.get("team")

    def broken(doc):
        raise KeyError("price")

    monkeypatch.setattr(team, "schema_version", 2)
    monkeypatch.setattr(team, "upcasters", {1: broken})
    login("viewer")
    response = client.get(f"/events/{made.event_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert f"team upcaster 1\u21922 failed on event {made.event_id}: KeyError" in html
