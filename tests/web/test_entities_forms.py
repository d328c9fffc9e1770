"""Entity forms submit only through audited commands: errors beside their fields and
nothing written, CSRF on every POST, hostile text escaped, passwords hashed."""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa

from tests.web.entity_helpers import edit_form, last_event, new_form, record_of
from tests.web.helpers import csrf_from, form_values, sqlite_app
from webapp.audit.commands import CreateRecord
from webapp.audit.context import AuditContext, audit_context
from webapp.audit.tables import change_events
from webapp.extensions import db
from webapp.runtime import auditor


def test_create_writes_one_audited_event_attributed_to_the_user(app, client, login, event_count):
    account = login("editor")
    data = {**new_form(client), "slug": "blue", "name": "Blue", "description": "Line 1\nLine 2"}
    response = client.post("/e/team/new", data=data,
                           headers={"X-Request-ID": "req-42", "traceparent":
                                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    assert response.status_code == 302
    event = last_event(app)
    assert event_count() == 3 + 1 + 1  # the fixture's three accounts, the login, then this
    assert response.headers["Location"].endswith(event.record_id)
    assert event.op == "created" and event.post_state["name"] == "Blue"
    assert event.user_id == account.id and event.request_id == "req-42"
    assert event.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert event.span_id == "00f067aa0ba902b7"
    assert event.session_id and event.client_ip == "127.0.0.1"
    assert event.idempotency_key == data["idempotency_key"]


def test_requests_without_traceparent_get_a_trace_of_their_own(app, client, login):
    login("editor")
    client.post("/e/team/new", data={**new_form(client), "slug": "x", "name": "X"})
    event = last_event(app)
    assert len(event.trace_id) == 32 and len(event.span_id) == 16 and event.request_id


@pytest.mark.parametrize("route", ["new", "edit", "delete"])
def test_post_without_csrf_token_is_refused_and_writes_nothing(client, login, event_count,
                                                               team, route):
    login("editor")
    url = "/e/team/new" if route == "new" else f"/e/team/{team['id']}/{route}"
    before = event_count()
    response = client.post(url, data={"slug": "green", "name": "Green", "expected_version": 1})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert event_count() == before


@pytest.mark.parametrize("field, value, message", [
    ("slug", "Not A Slug!", "use lowercase letters"),
    ("slug", "red", "already taken"),
    ("name", "", "is required"),
    ("name", "x" * 121, "at most 120 characters"),
    ("name", "bell\x07", "control characters"),
])
def test_bad_input_shows_the_error_beside_its_field_and_writes_nothing(
        client, login, event_count, team, field, value, message):
    login("editor")
    before = event_count()
    data = {**new_form(client), "slug": "green", "name": "Green", field: value}
    response = client.post("/e/team/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert 'aria-invalid="true"' in html
    assert event_count() == before


@pytest.mark.parametrize("entity, values, field, message", [
    ("project", {"name": "P", "status": "bogus"}, "status", "Not a valid choice"),
    ("user", {"username": "zed", "email": "no-at-sign", "role": "viewer"}, "email",
     "not a valid email address"),
    ("user", {"username": "zed", "email": "z@example.org", "role": "viewer",
              "password": "short"}, "password", "at least 10 characters"),
    ("setting", {"key": "Not A Key"}, "key", "use dotted lowercase words"),
])
def test_bad_input_on_other_entities_shows_beside_its_field_and_writes_nothing(
        client, login, event_count, team, entity, values, field, message):
    login("admin")
    form = new_form(client, entity)
    if "team_id" in form:
        form["team_id"] = team["id"]
    before = event_count()
    response = client.post(f"/e/{entity}/new", data={**form, **values})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(f'id="{field}-error">[^<]*{re.escape(message)}', html)
    assert event_count() == before


def test_a_reference_must_be_one_of_the_offered_records(client, login, event_count, team):
    login("editor")
    form = new_form(client, "project")
    assert team["id"] in client.get("/e/project/new", follow_redirects=True).get_data(as_text=True)
    before = event_count()
    data = {**form, "name": "P", "status": "active", "team_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
    response = client.post("/e/project/new", data=data)
    assert response.status_code == 422 and 'id="team_id-error"' in response.get_data(as_text=True)
    assert event_count() == before
    response = client.post("/e/project/new", data={**data, "team_id": team["id"]})
    assert response.status_code == 302 and event_count() == before + 1


def test_edit_records_only_the_fields_the_user_changed(app, client, login, team):
    login("editor")
    form = edit_form(client, team["id"])
    assert form["expected_version"] == "1" and form["name"] == "Red"
    response = client.post(f"/e/team/{team['id']}/edit", data={**form, "name": "  Crimson "})
    assert response.status_code == 302
    event = last_event(app)
    assert event.params == {"name": "Crimson"}
    assert event.post_state["description"] == "Old text"


def test_saving_an_unchanged_form_writes_no_event(client, login, event_count, team):
    login("editor")
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/edit", data=edit_form(client, team["id"]))
    assert response.status_code == 302 and event_count() == before


def test_edit_with_bad_input_writes_nothing(client, login, event_count, team):
    login("editor")
    before = event_count()
    data = {**edit_form(client, team["id"]), "slug": "BAD SLUG"}
    response = client.post(f"/e/team/{team['id']}/edit", data=data)
    assert response.status_code == 422 and 'id="slug-error"' in response.get_data(as_text=True)
    assert event_count() == before


def test_script_in_a_field_is_escaped_on_list_form_and_record_pages(app, client, login, run):
    hostile = "<script>alert('x')</script>"
    record = run(CreateRecord("team", {"slug": "evil", "name": hostile,
                                       "description": hostile + "\nline two"})).record
    login("viewer")
    for url in ["/e/team/", "/", f"/e/team/{record['id']}"]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert" in html, url
    login("editor")
    html = client.get(f"/e/team/{record['id']}/edit").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_password_is_hashed_never_shown_and_blank_means_unchanged(app, client, login,
                                                                  csrf_token):
    login("admin")
    data = {**new_form(client, "user"), "username": "newbie", "email": "n@example.org",
            "role": "editor", "active": "y", "password": "correct horse battery"}
    response = client.post("/e/user/new", data=data)
    assert response.status_code == 302
    event = last_event(app)
    assert "correct horse" not in str(event.params) + str(event.post_state)
    html = client.get(f"/e/user/{event.record_id}/edit").get_data(as_text=True)
    assert "$argon2" not in html and "$argon2" not in client.get("/e/user/").get_data(as_text=True)
    form = form_values(html, "/edit")
    assert form["password"] == ""
    client.post(f"/e/user/{event.record_id}/edit", data={**form, "full_name": "New Bie"})
    assert "password" not in last_event(app).params
    other = app.test_client()
    token = csrf_token("/login", other)
    response = other.post("/login", data={"username": "newbie", "password":
                                          "correct horse battery", "csrf_token": token})
    assert response.status_code == 302


def test_admin_changing_own_password_stays_logged_in(app, client, login):
    account = login("admin")
    form = edit_form(client, account.id, "user")
    response = client.post(f"/e/user/{account.id}/edit",
                           data={**form, "password": "another long password"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_no_change_event_is_written_outside_the_command_path(app, client, login, team):
    """Every row change has its event: records and events agree after a form session."""
    login("editor")
    response = client.post(f"/e/team/{team['id']}/edit", data={**edit_form(client, team["id"]),
                                                              "name": "A"})
    assert response.status_code == 302
    with app.app_context():
        count = db.session.execute(sa.select(sa.func.count()).select_from(change_events).where(
            change_events.c.record_id == team["id"])).scalar_one()
    assert count == record_of(app, "team", team["id"])["version"] == 2


@pytest.mark.parametrize("hops, recorded", [(0, "127.0.0.1"), (1, "203.0.113.7")],
                         ids=["no proxy: the header is ignored", "one proxy: it is trusted"])
def test_the_client_address_comes_from_a_proxy_only_when_one_is_configured(
        tmp_path, hops, recorded):
    with sqlite_app(tmp_path / "proxy.sqlite3", HINDSIGHT_PROXY_HOPS=hops) as proxied:
        client = proxied.test_client()
        with proxied.app_context(), audit_context(AuditContext(user_id="test")):
            password = secrets.token_urlsafe(12)
            auditor().execute(db.session(), CreateRecord("user", {
                "username": "ed", "email": "ed@example.org", "role": "editor", "active": True,
                "password": password, "full_name": "Ed"}))
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"  # on every request
        token = csrf_from(client.get("/login").get_data(as_text=True))
        assert client.post("/login", data={
            "username": "ed", "password": password, "csrf_token": token}).status_code == 302
        client.post("/e/team/new", data={**new_form(client), "slug": "px", "name": "Px"})
        assert last_event(proxied).client_ip == recorded
