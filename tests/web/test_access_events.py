"""Access is audited: logins, failed logins, lockouts, logouts, ended sessions and refused
sync requests are events of their own kind (the `access` entity) on the timeline, with
their own filter, and structured log lines; nobody edits them."""

from __future__ import annotations

import json

import pytest

from tests.web.helpers import csrf_from, sqlite_app
from tests.web.timeline_helpers import all_events, event_ids


@pytest.fixture
def app(tmp_path):
    with sqlite_app(tmp_path / "web.sqlite3", HINDSIGHT_LOGIN_FAILURES=2) as flask_app:
        yield flask_app


def _access(app):
    """The access events, oldest first, as (kind, summary, username, detail, event)."""
    return [(e.post_state["kind"], e.post_state["summary"], e.post_state["username"],
             e.post_state["detail"], e)
            for e in reversed(all_events(app)) if e.entity == "access"]


def _attempt(client, username, password):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def test_a_login_and_a_logout_are_access_events_of_the_account(app, client, login,
                                                              csrf_token):
    account = login("viewer")
    client.post("/logout", data={"csrf_token": csrf_token("/", client)})
    (kind, summary, username, _, event), (out, _, _, _, logout) = _access(app)
    assert (kind, summary, username) == ("login", "viewer-user logged in", "viewer-user")
    assert event.user_id == account.id and event.session_id and event.op == "created"
    assert out == "logout" and logout.session_id == event.session_id
    assert logout.user_id == account.id


def test_failed_logins_say_who_was_tried_and_why_and_hidden_characters_show(app, client,
                                                                            accounts):
    _attempt(client, "viewer-user", "not the password")
    _attempt(client, "adm\u202ein", "whatever-password")
    (k1, s1, u1, d1, e1), (k2, s2, u2, d2, _) = _access(app)
    assert (k1, u1, d1) == ("login_failed", "viewer-user", "wrong password")
    assert s1 == "Failed login as “viewer-user”" and e1.user_id is None
    assert (k2, d2) == ("login_failed", "unknown username")
    assert u2.startswith("unknown username #") and "adm" not in u2 + s2


def test_a_password_typed_as_the_username_is_stored_nowhere(app, client, accounts,
                                                            caplog):
    # Access events are replicated and never removed: an unknown username (often a
    # password typed in the wrong box) is kept as a fingerprint, never as typed.
    import sqlalchemy as sa

    from webapp.extensions import db

    caplog.set_level("INFO", logger="hindsight.access")
    secret = "Tr0ub4dor&3-correct-horse"
    for _ in range(3):  # two failures, then a lockout (HINDSIGHT_LOGIN_FAILURES=2)
        _attempt(client, secret, "whatever-password")
    events = _access(app)
    assert [kind for kind, *_ in events] == ["login_failed", "login_failed", "locked_out"]
    names = {username for _, _, username, _, _ in events}
    assert len(names) == 1 and names.pop().startswith("unknown username #")
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name == "login_failures":
                continue  # the throttle's own counters, local and expiring (see throttle.py)
            for row in db.session.execute(sa.select(table)):
                assert secret.lower() not in str(tuple(row)).lower(), table.name
    assert not any(secret in r.getMessage() for r in caplog.records)


def test_a_lockout_is_recorded_once_however_often_it_is_hit(app, client, accounts):
    for _ in range(2):
        assert _attempt(client, "viewer-user", "not the password").status_code == 422
    for _ in range(3):
        assert _attempt(client, "viewer-user", "not the password").status_code == 429
    kinds = [kind for kind, *_ in _access(app)]
    assert kinds == ["login_failed", "login_failed", "locked_out"]


def test_an_admin_signing_a_user_out_everywhere_is_recorded(app, client, login, accounts,
                                                            csrf_token):
    other = app.test_client()
    login("viewer", on=other)
    login("admin")
    client.post(f"/users/{accounts['viewer'].id}/sessions/end",
                data={"csrf_token": csrf_token("/sessions", client)})
    kind, summary, username, detail, event = _access(app)[-1]
    assert (kind, username, detail) == ("sessions_ended", "viewer-user", "1 session(s)")
    assert summary == "admin-user signed viewer-user out everywhere"
    assert event.user_id == accounts["admin"].id


def test_a_flood_from_ever_new_addresses_writes_a_bounded_number_of_events(app, client):
    from webapp.access.events import FLOOD_CAP

    for n in range(FLOOD_CAP + 15):  # one /64 holds 2^64 addresses: one each
        client.get("/sync/events?after=0", environ_base={"REMOTE_ADDR": f"2001:db8::{n:x}"})
    refused = [e for kind, _, _, _, e in _access(app) if kind == "sync_refused"]
    assert len(refused) == FLOOD_CAP


def test_refused_sync_requests_are_recorded_once_a_minute_per_address(app, client):
    for _ in range(3):
        assert client.get("/sync/events?after=0").status_code == 401
    refused = [(kind, detail) for kind, _, _, detail, _ in _access(app)]
    assert len(refused) == 1 and refused[0][0] == "sync_refused"
    assert "missing signature header" in refused[0][1]


def test_access_events_have_their_own_timeline_filter(app, client, login, run):
    from webapp.audit.commands import CreateRecord

    run(CreateRecord("team", {"slug": "red", "name": "Red"}))
    login("viewer")
    html = client.get("/timeline?entity=access").get_data(as_text=True)
    expected = [e.event_id for e in all_events(app) if e.entity == "access"]
    assert event_ids(html) == expected and len(expected) == 1
    assert '<option value="access"' in html and "viewer-user logged in" in html
    assert '<span class="badge op op-created">access</span>' in html
    # no record page shows an access event: its row links the event's own page
    assert f'class="event-record" href="/events/{expected[0]}"' in html
    assert "/e/access/" not in html
    everything = event_ids(client.get("/timeline").get_data(as_text=True))
    assert set(expected) < set(everything)


def test_nobody_lists_creates_or_edits_access_records(app, client, login):
    login("admin")
    record_id = _access(app)[0][4].record_id
    for url in ("/e/access/", "/e/access/new", f"/e/access/{record_id}",
                f"/e/access/{record_id}/edit", f"/e/access/{record_id}/delete"):
        assert client.get(url).status_code == 404, url
    assert 'href="/e/access/"' not in client.get("/").get_data(as_text=True)


def test_each_access_event_is_a_json_log_line_too(app, client, accounts, caplog):
    caplog.set_level("INFO", logger="hindsight.access")
    _attempt(client, "viewer-user", "not the password")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "hindsight.access"]
    assert {"event": "login_failed", "username": "viewer-user", "detail": "wrong password",
            "address": "127.0.0.1", "path": "/login", "method": "POST"}.items() <= \
        lines[-1].items()
    assert lines[-1]["request_id"]


def test_forbidden_pages_and_csrf_failures_are_logged(app, client, login, caplog):
    caplog.set_level("INFO", logger="hindsight.access")
    login("viewer")
    client.get("/nodes")
    client.post("/logout", data={})
    events = [json.loads(r.getMessage())["event"] for r in caplog.records
              if r.name == "hindsight.access"]
    assert "forbidden" in events and "csrf_failed" in events


def test_an_access_event_on_the_dashboard_links_to_its_event_page(app, client, login):
    login("viewer")
    event = _access(app)[0][4]
    html = client.get("/").get_data(as_text=True)
    assert f'href="/events/{event.event_id}"' in html
    assert f'href="/e/access/{event.record_id}"' not in html
    assert client.get(f"/events/{event.event_id}").status_code == 200
