"""API tokens from the admin page and the CLI: issued once (shown once), listed by name
and hint only, revoked; only admins may, and bad input gets a clear error."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.web.helpers import csrf_from
from webapp.extensions import db
from webapp.tokens import service

_TOKEN = re.compile(r'data-testid="issued-token">(hs_[A-Za-z0-9_-]{43})<')


def _issue(client, username="viewer-user", name="SIEM import"):
    token = csrf_from(client.get("/admin/tokens").get_data(as_text=True))
    return client.post("/admin/tokens", data={"username": username, "name": name,
                                              "csrf_token": token})


def _api(client, token):
    return client.get("/api/events", headers={"Authorization": f"Bearer {token}"}).status_code


def test_an_admin_issues_a_token_that_is_shown_once_and_works(client, login):
    login("admin")
    response = _issue(client)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    token = _TOKEN.search(response.get_data(as_text=True)).group(1)
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert token not in listing and token[:7] in listing and "SIEM import" in listing
    assert _api(client, token) == 200


def test_revoking_from_the_page_stops_the_token(app, client, login):
    login("admin")
    token = _TOKEN.search(_issue(client).get_data(as_text=True)).group(1)
    with app.app_context():
        (found,) = service.list_tokens(db.session())
    page = client.get("/admin/tokens").get_data(as_text=True)
    response = client.post(f"/admin/tokens/{found.id}/revoke",
                           data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Revoked the token" in unescape(response.get_data(as_text=True))
    assert _api(client, token) == 401
    again = client.post(f"/admin/tokens/{found.id}/revoke", data={"csrf_token": csrf_from(page)},
                        follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True)


@pytest.mark.parametrize("username, name, reason", [
    ("nobody", "x", "no account named"), ("viewer-user", "", "This field is required"),
    ("viewer-user", "n" * 101, "Field cannot be longer than 100 characters")])
def test_bad_input_is_refused_with_the_reason(client, login, username, name, reason):
    login("admin")
    response = _issue(client, username, name)
    assert response.status_code == 400
    assert reason in unescape(response.get_data(as_text=True))
    assert not _TOKEN.search(response.get_data(as_text=True))


def test_posts_need_a_csrf_token(client, login):
    login("admin")
    response = client.post("/admin/tokens", data={"username": "viewer-user", "name": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_manage_tokens(client, login, role):
    login(role)
    assert client.get("/admin/tokens").status_code == 403
    page = client.get("/timeline").get_data(as_text=True)
    response = client.post("/admin/tokens", data={"username": "viewer-user", "name": "x",
                                                  "csrf_token": csrf_from(page)})
    assert response.status_code == 403


def test_the_cli_issues_lists_and_revokes(app, client, accounts):
    cli = app.test_cli_runner()
    issued = cli.invoke(args=["tokens", "issue", "Viewer-User", "--name", "nightly"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert re.fullmatch(r"hs_[A-Za-z0-9_-]{43}", token) and "shown only now" in issued.stderr
    assert _api(client, token) == 200
    listed = cli.invoke(args=["tokens", "list"])
    assert "viewer-user" in listed.output and "nightly" in listed.output
    assert token not in listed.output
    token_id = listed.output.split()[0]
    assert cli.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert _api(client, token) == 401
    assert "revoked" in cli.invoke(args=["tokens", "list"]).output


@pytest.mark.parametrize("args, reason", [
    (["issue", "nobody", "--name", "x"], "no account named 'nobody'"),
    (["issue", "viewer-user", "--name", " "], "needs a name"),
    (["revoke", "01J00000000000000000000000"], "no API token with id"),
    (["revoke", "junk"], "no API token with id")])
def test_the_cli_explains_what_it_refuses(app, accounts, args, reason):
    result = app.test_cli_runner().invoke(args=["tokens", *args])
    assert result.exit_code == 1 and reason in result.output


@pytest.mark.parametrize("token_id", ["01J00000000000000000000000", "junk"])
def test_revoking_an_unknown_token_from_the_page_says_so(client, login, token_id):
    login("admin")
    token = csrf_from(client.get("/admin/tokens").get_data(as_text=True))
    page = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token},
                       follow_redirects=True)
    assert page.status_code == 200 and "no API token with id" in page.get_data(as_text=True)


def test_only_admins_revoke_tokens(app, client, login):
    login("admin")
    token = _TOKEN.search(_issue(client).get_data(as_text=True)).group(1)
    with app.app_context():
        token_id = service.list_tokens(db.session())[0].id
    login("editor")
    csrf = csrf_from(client.get("/timeline").get_data(as_text=True))
    assert client.post(f"/admin/tokens/{token_id}/revoke",
                       data={"csrf_token": csrf}).status_code == 403
    assert _api(client, token) == 200
