"""Shared by the entity form tests: read back records and events, fetch a form's fields."""

from __future__ import annotations

from tests.web.helpers import form_values
from webapp.audit.records import get_record
from webapp.audit.store import timeline
from webapp.domain import registry
from webapp.extensions import db


def record_of(app, entity, record_id):
    with app.app_context():
        return get_record(db.session, registry.get(entity), record_id)


def last_event(app):
    with app.app_context():
        return timeline(db.session, limit=1).events[0]


def new_form(client, entity="team"):
    html = client.get(f"/e/{entity}/new", follow_redirects=True).get_data(as_text=True)
    return form_values(html, "/new")


def edit_form(client, record_id, entity="team"):
    html = client.get(f"/e/{entity}/{record_id}/edit").get_data(as_text=True)
    return form_values(html, "/edit")
