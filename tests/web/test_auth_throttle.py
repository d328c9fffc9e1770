"""Failed logins are throttled per username and address, and per address, on the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.web.helpers import csrf_from, sqlite_app

LIMIT = 3  # failures per username and address (the address gets ten times that)


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    with sqlite_app(tmp_path / "web.sqlite3", HINDSIGHT_LOGIN_FAILURES=LIMIT,
                    HINDSIGHT_LOGIN_WINDOW_S=600) as flask_app:
        yield flask_app


def attempt(client, username, password, address="10.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    token = csrf_from(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}, environ_base=environ)


def test_past_the_limit_even_the_right_password_is_refused_with_429(client, accounts):
    account = accounts["admin"]
    for _ in range(LIMIT):
        assert attempt(client, account.username, "wrong password").status_code == 422
    refused = attempt(client, account.username, account.password)
    assert refused.status_code == 429
    assert "Too many failed logins. Try again in 10 minutes." in refused.get_data(as_text=True)
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert client.get("/").status_code == 302  # not logged in
    # The username typed in another case is the same account, and is refused too.
    assert attempt(client, account.username.upper(), account.password).status_code == 429


def test_the_same_account_still_logs_in_from_another_address(client, accounts):
    account = accounts["admin"]
    for _ in range(LIMIT):
        attempt(client, account.username, "wrong password")
    assert attempt(client, account.username, account.password, "10.0.0.9").status_code == 302


def test_a_successful_login_clears_the_count(client, accounts):
    account = accounts["editor"]
    for _ in range(LIMIT - 1):
        attempt(client, account.username, "wrong password")
    assert attempt(client, account.username, account.password).status_code == 302
    here = {"REMOTE_ADDR": "10.0.0.1"}  # a session is bound to its address
    token = csrf_from(client.get("/", environ_base=here).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}, environ_base=here).status_code == 302
    for _ in range(LIMIT - 1):
        assert attempt(client, account.username, "wrong password").status_code == 422
    assert attempt(client, account.username, account.password).status_code == 302


def test_one_address_spraying_many_usernames_is_stopped(client, accounts):
    for i in range(LIMIT * 10):  # each username stays under its own limit
        assert attempt(client, f"guess-{i}", "wrong password").status_code == 422
    account = accounts["viewer"]
    assert attempt(client, account.username, account.password).status_code == 429
    assert attempt(client, account.username, account.password, "10.0.0.2").status_code == 302


def test_a_disabled_accounts_right_password_is_not_counted_as_a_guess(client, accounts, run):
    from webapp.audit.commands import UpdateRecord

    account = accounts["editor"]
    run(UpdateRecord("user", account.id, 1, {"active": False}))
    for _ in range(LIMIT + 1):
        page = attempt(client, account.username, account.password)
        assert page.status_code == 422
        assert "This account is disabled" in page.get_data(as_text=True)


def test_an_admin_unlocks_a_locked_out_user_from_the_command_line(app, client, accounts):
    account = accounts["editor"]
    for _ in range(LIMIT):
        attempt(client, account.username, "wrong password")
    assert attempt(client, account.username, account.password).status_code == 429
    runner = app.test_cli_runner()
    done = runner.invoke(args=["unlock-login", account.username.upper()])
    assert done.exit_code == 0 and f"Cleared {LIMIT} failed login(s)" in done.output
    assert attempt(client, account.username, account.password).status_code == 302
    assert "Cleared 0" in runner.invoke(args=["unlock-login", "nobody"]).output
    assert runner.invoke(args=["unlock-login"]).exit_code == 2  # a username is required


def test_unlocking_one_address_leaves_the_others_locked(app, client, accounts):
    account = accounts["editor"]
    for address in ("10.0.0.1", "10.0.0.2"):
        for _ in range(LIMIT):
            attempt(client, account.username, "wrong password", address)
    done = app.test_cli_runner().invoke(
        args=["unlock-login", account.username, "--address", "10.0.0.2"])
    assert f"Cleared {LIMIT} failed login(s)" in done.output
    assert attempt(client, account.username, account.password, "10.0.0.1").status_code == 429
    assert attempt(client, account.username, account.password, "10.0.0.2").status_code == 302


def test_addresses_of_one_ipv6_64_count_as_one(client, accounts):
    account = accounts["admin"]
    for i in range(1, LIMIT + 1):
        assert attempt(client, account.username, "wrong password",
                       f"2001:db8:5:6::{i:x}").status_code == 422
    refused = attempt(client, account.username, account.password, "2001:db8:5:6::beef")
    assert refused.status_code == 429
    assert attempt(client, account.username, account.password, "2001:db8:5:7::1").status_code == 302


def test_a_username_guessed_from_many_addresses_is_slowed_not_locked(client, accounts):
    account = accounts["admin"]
    for i in range(2 * LIMIT):
        assert attempt(client, account.username, "wrong password",
                       f"10.1.{i}.1").status_code == 422
    slowed = attempt(client, account.username, account.password, "10.2.0.1")
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "1"
