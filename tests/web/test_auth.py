"""Logging in and out: hashed passwords, CSRF on the login form, safe `next`."""

from __future__ import annotations

import pytest

from tests.web.helpers import csrf_from
from webapp.audit.commands import UpdateRecord


def _post_login(client, csrf_token, username, password, next_url=None):
    data = {"username": username, "password": password, "csrf_token": csrf_token()}
    url = "/login" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(url, data=data)


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_page_has_csrf_token_and_autofocus(client):
    html = client.get("/login").get_data(as_text=True)
    assert csrf_from(html)
    assert 'name="username"' in html and "autofocus" in html


def test_login_with_right_password_opens_the_dashboard(client, accounts, csrf_token):
    account = accounts["viewer"]
    response = _post_login(client, csrf_token, account.username, account.password)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Dashboard" in page.get_data(as_text=True)


def test_username_is_case_insensitive(client, accounts, csrf_token):
    account = accounts["editor"]
    response = _post_login(client, csrf_token, account.username.upper(), account.password)
    assert response.status_code == 302


@pytest.mark.parametrize("username, password", [
    ("editor-user", "wrong password"),
    ("nobody", "whatever-password"),
])
def test_bad_credentials_get_one_generic_message(client, accounts, csrf_token,
                                                 username, password):
    response = _post_login(client, csrf_token, username, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown username or wrong password." in html
    assert client.get("/").status_code == 302  # still logged out


@pytest.mark.parametrize("username, password", [
    ("", "whatever-password"), ("editor-user", ""), ("x" * 101, "whatever-password"),
    ("editor-user", "p" * 257),
])
def test_blank_or_oversized_login_fields_are_refused_beside_the_field(
        client, accounts, csrf_token, username, password):
    response = _post_login(client, csrf_token, username, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="field-error"' in html and 'aria-invalid="true"' in html
    assert client.get("/").status_code == 302  # still logged out


def test_login_without_csrf_token_is_refused(client, accounts):
    account = accounts["admin"]
    response = client.post("/login", data={"username": account.username,
                                           "password": account.password})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_inactive_account_cannot_log_in(client, accounts, csrf_token, run):
    account = accounts["editor"]
    run(UpdateRecord("user", account.id, 1, {"active": False}))
    response = _post_login(client, csrf_token, account.username, account.password)
    assert response.status_code == 422
    assert "disabled" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivating_an_account_ends_its_open_session(client, login, accounts, run):
    account = login("editor")
    assert client.get("/").status_code == 200
    run(UpdateRecord("user", account.id, 1, {"active": False}))
    assert client.get("/").status_code == 302


def test_changing_a_password_ends_other_sessions(client, login, accounts, run):
    account = login("viewer")
    run(UpdateRecord("user", account.id, 1, {"password": "a-brand-new-password"}))
    assert client.get("/").status_code == 302


def test_next_path_on_the_same_site_is_followed(client, accounts, csrf_token):
    account = accounts["viewer"]
    response = _post_login(client, csrf_token, account.username, account.password,
                           "/e/team/?q=red")
    assert response.headers["Location"] == "/e/team/?q=red"


@pytest.mark.parametrize("bad_next", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
    "evil.example", "/\r\nSet-Cookie:x", "/\tx", "/ //evil.example",
])
def test_next_pointing_elsewhere_is_ignored(client, accounts, csrf_token, bad_next):
    account = accounts["viewer"]
    response = client.post("/login", query_string={"next": bad_next}, data={
        "username": account.username, "password": account.password,
        "csrf_token": csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_pointing_elsewhere_in_the_form_body_is_ignored(client, accounts, csrf_token):
    account = accounts["viewer"]
    response = client.post("/login", data={
        "username": account.username, "password": account.password,
        "next": "//evil.example/", "csrf_token": csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_needs_a_post_with_csrf(client, login):
    login("viewer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_logout_ends_the_session(client, login, csrf_token):
    login("viewer")
    response = client.post("/logout", data={"csrf_token": csrf_token("/")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_logged_in_user_visiting_login_goes_to_the_dashboard(client, login):
    login("viewer")
    assert client.get("/login").headers["Location"] == "/"


def test_htmx_request_after_the_session_ended_redirects_the_whole_page(client):
    response = client.get("/e/team/?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_after_login_the_visitor_returns_where_they_were_sent_from(client, accounts):
    response = client.get("/e/team/?q=red")
    login_url = response.headers["Location"]
    html = client.get(login_url).get_data(as_text=True)
    token = csrf_from(html)
    account = accounts["viewer"]
    response = client.post(login_url, data={"username": account.username,
                                            "password": account.password, "csrf_token": token})
    assert response.headers["Location"] == "/e/team/?q=red"
