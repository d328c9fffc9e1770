"""`flask seed-demo` and `flask create-user`: random passwords printed once, never a
fixed default; seeding twice changes nothing."""

from __future__ import annotations

import re

from tests.web.helpers import csrf_from, sqlite_app
from webapp.audit.commands import CreateRecord
from webapp.audit.lookups import id_by_field
from webapp.domain import users
from webapp.extensions import db


def _password(output, label="password:"):
    return re.search(re.escape(label) + r"\s+(\S+)", output).group(1)


def _can_log_in(app, username, password):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    return response.status_code == 302


def test_seed_demo_creates_an_admin_with_a_printed_random_password(app, event_count):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    password = _password(result.output)
    assert len(password) >= 12
    assert _can_log_in(app, "admin", password)
    assert not _can_log_in(app, "admin", "admin") and not _can_log_in(app, "admin", "password")
    assert event_count() > 30  # a history with several edits per record
    for name in ("alice", "bob", "carol", "dave"):
        assert _can_log_in(app, name, _password(result.output, name))


def test_seed_demo_twice_writes_nothing_more_and_prints_no_password(app, event_count):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    before = event_count()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "password" not in result.output.lower()
    assert event_count() == before


def test_seed_demo_leaves_existing_accounts_alone(app, accounts):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "no admin created" in result.output and "username: admin" not in result.output
    with app.app_context():
        assert id_by_field(db.session, users, "username", "admin") is None
    assert _can_log_in(app, "admin-user", accounts["admin"].password)


def test_seed_demo_stops_with_a_message_when_a_demo_name_is_taken(app, run, event_count):
    run(CreateRecord("user", {"username": "alice", "email": "alice@corp.example",
                              "role": "viewer", "active": True}))
    before = event_count()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "demo data not complete" in result.output and "already taken" in result.output
    assert event_count() == before  # alice is the first demo record: nothing was written


def test_each_database_gets_its_own_admin_password(tmp_path, app):
    first = _password(app.test_cli_runner().invoke(args=["seed-demo"]).output)
    with sqlite_app(tmp_path / "b.sqlite3") as other:
        second = _password(other.test_cli_runner().invoke(args=["seed-demo"]).output)
    assert first != second


def test_create_user_prints_a_password_that_works(app):
    result = app.test_cli_runner().invoke(args=["create-user", "root2", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert _can_log_in(app, "root2", _password(result.output, "(shown once):"))


def test_create_user_refuses_bad_or_taken_names_with_a_message(app, accounts, event_count):
    runner = app.test_cli_runner()
    before = event_count()
    taken = runner.invoke(args=["create-user", "admin-user"])
    assert taken.exit_code != 0 and "already taken" in taken.output
    bad = runner.invoke(args=["create-user", "Bad Name!"])
    assert bad.exit_code != 0 and "username" in bad.output
    role = runner.invoke(args=["create-user", "x", "--role", "god"])
    assert role.exit_code != 0 and "'god' is not one of" in role.output
    email = runner.invoke(args=["create-user", "x", "--email", "no-at-sign"])
    assert email.exit_code != 0 and "email: is not a valid email address" in email.output
    name = runner.invoke(args=["create-user", "x", "--full-name", "n" * 121])
    assert name.exit_code != 0 and "full_name: must be at most 120" in name.output
    missing = runner.invoke(args=["create-user"])
    assert missing.exit_code != 0 and "Missing argument 'USERNAME'" in missing.output
    assert event_count() == before
