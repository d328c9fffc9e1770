"""The business field types in the browser's forms and pages: the right control for
each, hostile values refused beside their field with nothing written, a moment typed
and shown in the admins' zone, a link that can only be http(s), a choice's label."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.ledger import LINE, served
from tests.web.entity_helpers import edit_form, last_event, new_form, record_of
from tests.web.helpers import sqlite_app
from webapp.domain import registry
from webapp.extensions import db


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    with sqlite_app(tmp_path / "web.sqlite3", HINDSIGHT_TIMEZONE="Europe/Paris") as made:
        with made.app_context():
            engine = db.engine
        with served(registry, engine):
            yield made


def form_for(client, **values):
    data = {**new_form(client, "ledger"), **{k: v for k, v in LINE.items() if v is not None}}
    data["due_at"] = "2026-12-07T11:30"  # as a datetime-local input sends it, in Paris
    return {**data, **values}


def test_each_type_gets_its_own_form_control(client, login):
    login("editor")
    html = client.get("/e/ledger/new").get_data(as_text=True)
    assert 'type="date"' in html and 'min="1000-01-01"' in html
    assert 'type="datetime-local"' in html and "Time in Europe/Paris." in html
    assert 'inputmode="decimal"' in html and 'type="url"' in html
    assert 'max="1000000000000"' in html and 'min="0"' in html
    assert '<option value="in">Received</option>' in html
    assert "Leave empty for an internal movement." in html  # help text
    assert '<option value="">—</option>' in html  # the optional reference may stay empty


@pytest.mark.parametrize("field, bad, message", [
    ("amount", "NaN", "must be a number such as 12.50"),
    ("amount", "Infinity", "must be a number"),
    ("amount", "12.345", "must have at most 2 decimal places"),
    ("booked_on", "2026-02-30", "is not a day of the calendar"),
    ("booked_on", "0999-12-31", "must be between 1000-01-01 and 9999-12-31"),
    ("link", "javascript:alert(1)", "must start with http:// or https://"),
    ("quantity", "1000000000001", "must be between 0 and 1000000000000"),
    ("due_at", "2026-12-07T25:00", "is not a moment of the calendar"),
])
def test_a_hostile_value_is_refused_beside_its_field(client, login, event_count, field, bad,
                                                      message):
    login("editor")
    before = event_count()
    response = client.post("/e/ledger/new", data=form_for(client, **{field: bad}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert event_count() == before


def test_values_are_stored_exactly_and_shown_for_people(app, client, login):
    login("editor")
    response = client.post("/e/ledger/new", data=form_for(client))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    event = last_event(app)
    assert event.post_state["due_at"] == "2026-12-07T10:30:00Z"  # typed in Paris, kept in UTC
    assert event.post_state["amount"] == "1234567890.50"
    record = record_of(app, "ledger", event.record_id)
    assert record["amount"] == "1234567890.50" and record["supplier_id"] is None
    listing = client.get("/e/ledger/").get_data(as_text=True)
    assert ('<a href="https://supplier.example/bolts?id=7" rel="noopener noreferrer nofollow" '
            'target="_blank">') in listing
    assert "Received" in listing and "1234567890.50" in listing
    assert "2026-12-07 11:30:00 CET" in listing  # the moment in the admins' zone
    form = edit_form(client, event.record_id, "ledger")
    assert form["due_at"] == "2026-12-07T11:30:00" and form["amount"] == "1234567890.50"
    shown = client.get(f"/e/ledger/{event.record_id}").get_data(as_text=True)
    assert "Received" in shown and "1234567890.50" in shown


def test_an_edit_diffs_readably_on_the_timeline(app, client, login):
    login("editor")
    client.post("/e/ledger/new", data=form_for(client))
    made = last_event(app)
    form = {**edit_form(client, made.record_id, "ledger"), "direction": "out", "amount": "-3"}
    response = client.post(f"/e/ledger/{made.record_id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    changed = last_event(app)
    assert set(changed.params) == {"direction", "amount"}  # the zone round trip is no change
    page = client.get(f"/events/{changed.event_id}").get_data(as_text=True)
    assert "Received" in page and "Shipped" in page and "-3.00" in page


def test_a_list_filters_by_a_choice_shown_by_its_label(client, login):
    login("editor")
    client.post("/e/ledger/new", data=form_for(client))
    client.get("/")  # shows (and so clears) the "created" message
    shipped = client.get("/e/ledger/?direction=out").get_data(as_text=True)
    received = client.get("/e/ledger/?direction=in").get_data(as_text=True)
    assert "Direction: Shipped</option>" in shipped and "Direction: Received</option>" in shipped
    assert "Bolts" not in shipped and "Bolts" in received
    assert client.get("/e/ledger/?direction=Shipped").status_code == 400


def test_the_declared_edit_role_guards_the_forms(client, login):
    login("editor")  # ledger lines: the default role, editor
    assert client.get("/e/ledger/new").status_code == 200
    refused = client.get("/e/lsupplier/new")
    assert refused.status_code == 403 and "needs the admin role" in refused.get_data(as_text=True)
    login("admin")
    assert client.get("/e/lsupplier/new").status_code == 200
