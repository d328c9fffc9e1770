"""/api/events on every backend: only a valid, unrevoked API token of an active account
opens it (never the session cookie alone); it serves the timeline's filters and keyset
cursor as JSON, and bad filters get 400 with the reason."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from tests.support.databases import database_url
from tests.web.helpers import database_app
from tests.web.timeline_helpers import all_events
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.extensions import db
from webapp.tokens import service
from webapp.tokens.table import api_tokens

pytestmark = pytest.mark.backends


@pytest.fixture
def app(backend, tmp_path):
    with database_app(database_url(backend, "api", tmp_path)) as flask_app:
        yield flask_app


@pytest.fixture
def world(run, accounts):
    editor, admin = accounts["editor"].id, accounts["admin"].id
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}), user_id=editor).record
    run(UpdateRecord("team", team["id"], 1, {"name": "Red Team"}), user_id=admin)
    run(CreateRecord("setting", {"key": "mail.host", "value": "smtp"}), user_id=editor)
    return team


@pytest.fixture
def issue(app):
    def make(username="viewer-user", name="siem"):
        with app.app_context():
            return service.issue(db.session(), username, name, created_by="test")
    return make


def _get(client, token, query=""):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(f"/api/events{query}", headers=headers)


def _refused(response, reason):
    assert response.status_code == 401, response.get_data(as_text=True)[:300]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert reason in response.get_json()["error"]


def test_a_viewers_token_reads_every_event_page_by_page(app, client, world, issue):
    _, token = issue("viewer-user")
    seen, query = [], "?limit=2"
    while query is not None:
        response = _get(client, token, query)
        assert response.status_code == 200 and response.mimetype == "application/json"
        body = response.get_json()
        assert len(body["events"]) <= 2
        seen += [d["event_id"] for d in body["events"]]
        query = body["next_url"] and body["next_url"].removeprefix("/api/events")
    assert seen == [e.event_id for e in all_events(app)]


def test_filters_narrow_the_api_as_they_do_the_timeline(app, client, accounts, world, issue):
    _, token = issue()
    body = _get(client, token, "?entity=team&user=admin-user").get_json()
    expected = [e.event_id for e in all_events(app, entity="team", user_id=accounts["admin"].id)]
    assert [d["event_id"] for d in body["events"]] == expected and len(expected) == 1
    doc = body["events"][0]
    assert doc["params"] == {"name": "Red Team"} and doc["pre_state"]["name"] == "Red"
    assert doc["user"] == "admin-user" and isinstance(doc["hlc"], int) and doc["hlc_text"]
    assert body["next"] is None


def test_next_url_keeps_the_filters_page_after_page(app, client, accounts, run, world, issue):
    run(UpdateRecord("team", world["id"], 2, {"name": "Crimson"}), user_id=accounts["admin"].id)
    _, token = issue()
    seen, query = [], "?entity=team&limit=1"
    while query is not None:
        body = _get(client, token, query).get_json()
        seen += [d["event_id"] for d in body["events"]]
        assert all(d["entity"] == "team" for d in body["events"])
        query = body["next_url"] and body["next_url"].removeprefix("/api/events")
        assert query is None or "entity=team" in query
    expected = [e.event_id for e in all_events(app, entity="team")]
    assert seen == expected and len(expected) == 3


@pytest.mark.parametrize("query, reason", [
    ("?entity=nope", "unknown entity"), ("?op=renamed", "unknown operation"),
    ("?from=tomorrow", "not a date"), ("?before=garbage", "cursor is not valid"),
    ("?limit=0", "limit"), ("?limit=1001", "limit"), ("?limit=ten", "limit")])
def test_bad_filters_get_400_with_the_reason(client, world, issue, query, reason):
    _, token = issue()
    response = _get(client, token, query)
    assert response.status_code == 400 and reason in response.get_json()["error"]


def test_no_token_or_a_wrong_one_is_refused(client, world, issue):
    issue()
    _refused(_get(client, None), "API token is required")
    _refused(_get(client, "hs_" + "A" * 43), "unknown API token")
    _refused(_get(client, "not-a-token"), "not 'Bearer <token>'")
    _refused(client.get("/api/events", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
             "not 'Bearer <token>'")


def test_the_session_cookie_alone_opens_nothing(client, login, world):
    login("admin")
    assert client.get("/timeline").status_code == 200  # the cookie is a good one
    _refused(_get(client, None), "API token is required")


def test_a_revoked_token_stops_working(app, client, world, issue):
    token_id, token = issue()
    assert _get(client, token).status_code == 200
    with app.app_context():
        service.revoke(db.session(), token_id)
    _refused(_get(client, token), "revoked")


def test_a_disabled_accounts_token_stops_working(app, client, run, accounts, world, issue):
    _, token = issue("editor-user")
    run(UpdateRecord("user", accounts["editor"].id, 1, {"active": False}))
    _refused(_get(client, token), "disabled")


def test_a_token_opens_only_the_api(client, world, issue):
    _, token = issue("admin-user")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/timeline", headers=headers).status_code == 302  # to the login page
    assert client.get("/admin/tokens", headers=headers).status_code == 302
    assert client.post("/api/events", headers=headers).status_code == 405


def test_only_the_tokens_hash_is_stored(app, world, issue):
    token_id, token = issue()
    with app.app_context():
        row = db.session.execute(sa.select(api_tokens)).one()._mapping
    assert row["id"] == token_id and token not in [str(v) for v in row.values()]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
