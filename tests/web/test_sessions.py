"""Server-side sessions: a copied cookie is worth nothing after logout, a password or role
change, an admin's "sign out everywhere", or an idle or absolute timeout; each user sees
their sessions and an admin everyone's. The cookie holds nothing from the password."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.web.entity_helpers import edit_form
from webapp.audit.commands import UpdateRecord
from webapp.audit.records import get_record
from webapp.domain import users
from webapp.extensions import db
from webapp.sessions.store import TOUCH_MS, user_sessions


def _signed_in(client) -> bool:
    return client.get("/timeline").status_code == 200


def _copy(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return thief


def _sessions(app):
    with app.app_context():
        return db.session.execute(sa.select(user_sessions)).all()


def _post(client, url, csrf_token):
    return client.post(url, data={"csrf_token": csrf_token("/account/sessions", client)})


def test_a_cookie_copied_before_logout_does_not_log_in_after_it(app, client, login, csrf_token):
    login("viewer")
    thief = _copy(app, client)
    assert _signed_in(thief)
    client.post("/logout", data={"csrf_token": csrf_token("/", client)})
    assert not _signed_in(thief) and not _signed_in(client)
    assert [row.end_reason for row in _sessions(app)] == ["logged out"]


def test_the_cookie_carries_the_account_id_and_nothing_from_its_password(app, client, login):
    account = login("viewer")
    data = app.session_interface.get_signing_serializer(app).loads(
        client.get_cookie("session").value)
    assert data["_user_id"] == account.id
    with app.app_context():
        password_hash = get_record(db.session, users, account.id)["password"]
    assert password_hash and not any(
        password_hash[-n:] in str(data) for n in (6, 12)), data


@pytest.mark.parametrize("change", [{"password": "a-brand-new-password"}, {"role": "editor"}])
def test_a_password_or_role_change_ends_the_accounts_sessions(app, client, login, accounts,
                                                               run, change):
    account = login("viewer")
    thief = _copy(app, client)
    run(UpdateRecord("user", account.id, 1, change))
    assert not _signed_in(client) and not _signed_in(thief)
    assert [row.end_reason for row in _sessions(app)] == ["password or role changed"]


def test_an_admin_signs_a_user_out_everywhere(app, client, login, accounts, csrf_token):
    other = app.test_client()
    login("viewer")
    login("viewer", on=other)
    admin = app.test_client()
    login("admin", on=admin)
    viewer = accounts["viewer"]
    page = admin.get("/sessions").get_data(as_text=True)
    assert page.count("viewer-user</bdi>") >= 2 and "admin-user" in page
    response = _post(admin, f"/users/{viewer.id}/sessions/end", csrf_token)
    assert response.status_code == 302
    assert not _signed_in(client) and not _signed_in(other) and _signed_in(admin)
    assert "viewer-user" not in admin.get("/sessions").get_data(as_text=True)


def test_only_an_admin_signs_others_out(app, client, login, accounts, csrf_token):
    login("editor")
    assert client.get("/sessions").status_code == 403
    admin = app.test_client()
    login("admin", on=admin)
    assert _post(client, f"/users/{accounts['admin'].id}/sessions/end",
                 csrf_token).status_code == 403
    assert _signed_in(admin)


def test_users_see_and_end_their_own_sessions_only(app, client, login, accounts, csrf_token):
    login("viewer")
    second = app.test_client()
    login("viewer", on=second)
    admin = app.test_client()
    login("admin", on=admin)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert page.count('data-session="') == 2 and "(this session)" in page
    assert "admin-user" not in page
    admins = [r.id for r in _sessions(app) if r.user_id == accounts["admin"].id]
    assert _post(client, f"/account/sessions/{admins[0]}/end", csrf_token).status_code == 404
    assert _signed_in(admin)
    _post(client, "/account/sessions/end-others", csrf_token)
    assert _signed_in(client) and not _signed_in(second)


@pytest.mark.parametrize("column, setting, expected", [
    ("seen_ms", "HINDSIGHT_SESSION_IDLE_S", "idle too long"),
    ("created_ms", "HINDSIGHT_SESSION_MAX_S", "reached its maximum age")])
def test_sessions_end_after_the_idle_and_the_absolute_lifetime(app, client, login, column,
                                                               setting, expected, caplog):
    caplog.set_level("INFO", logger="hindsight.access")
    login("viewer")
    lifetime_ms = app.config[setting] * 1000
    with app.app_context():
        db.session.execute(user_sessions.update().values(
            {column: user_sessions.c[column] - lifetime_ms - 1000}))
        db.session.commit()
    assert not _signed_in(client)
    reason = _sessions(app)[0].end_reason
    assert reason == expected
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "hindsight.access"]
    assert {"event": "session_ended", "detail": reason}.items() <= logged[-1].items()


def _seen_ms_moved_back_by(app, ms: int) -> int:
    """Pretend the session was last seen `ms` earlier; the seen_ms it now holds."""
    with app.app_context():
        db.session.execute(user_sessions.update().values(seen_ms=user_sessions.c.seen_ms - ms))
        db.session.commit()
    return _sessions(app)[0].seen_ms


def test_a_page_view_writes_last_seen_at_most_once_a_minute(app, client, login):
    # Every page would otherwise write the session's row (a write per request); the idle
    # timeout only needs last-seen to the minute.
    login("viewer")
    recent = _seen_ms_moved_back_by(app, TOUCH_MS // 2)
    assert _signed_in(client) and _signed_in(client)
    assert _sessions(app)[0].seen_ms == recent  # seen within the minute: not written
    stale = _seen_ms_moved_back_by(app, TOUCH_MS)  # now over a minute ago
    assert _signed_in(client)
    assert _sessions(app)[0].seen_ms > stale + TOUCH_MS // 2  # written: it is now again


def test_changing_your_own_password_keeps_this_session_and_ends_the_others(
        app, client, login, csrf_token):
    account = login("admin")
    elsewhere = app.test_client()
    login("admin", on=elsewhere)
    form = edit_form(client, account.id, "user")
    response = client.post(f"/e/user/{account.id}/edit",
                           data={**form, "password": "another long password"})
    assert response.status_code == 302
    assert _signed_in(client) and not _signed_in(elsewhere)


def test_ending_your_own_current_session_logs_you_out(app, client, login, csrf_token):
    login("viewer")
    thief = _copy(app, client)
    (mine,) = [r.id for r in _sessions(app)]
    response = _post(client, f"/account/sessions/{mine}/end", csrf_token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not _signed_in(client) and not _signed_in(thief)
    assert [row.end_reason for row in _sessions(app)] == ["logged out"]


@pytest.mark.parametrize("user_id", ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-a-ulid"])
def test_signing_out_an_unknown_user_is_404_and_ends_nothing(app, client, login, user_id,
                                                             csrf_token):
    login("admin")
    assert _post(client, f"/users/{user_id}/sessions/end", csrf_token).status_code == 404
    assert _signed_in(client)
    assert [row.end_reason for row in _sessions(app)] == [None]
