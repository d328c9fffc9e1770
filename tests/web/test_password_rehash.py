"""An account with an old scrypt hash logs in as before, and its hash is then stored as
argon2id by an audited change of its own; a wrong password changes nothing."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from webapp.audit.records import get_record
from webapp.audit.tables import change_events
from webapp.domain import users
from webapp.extensions import db

SALT = bytes(range(16))


def _plant_scrypt_hash(app, user_id: str, password: str) -> str:
    """The hash this node wrote before argon2id, put in the row as an old node left it."""
    digest = hashlib.scrypt(password.encode(), salt=SALT, n=2**14, r=8, p=1)
    old = f"scrypt$16384$8$1${SALT.hex()}${digest.hex()}"
    with app.app_context():
        db.session.execute(users.table.update().where(users.table.c.id == user_id)
                           .values(password=old))
        db.session.commit()
    return old


def _stored(app, user_id):
    with app.app_context():
        return get_record(db.session, users, user_id)


def _login(client, csrf_token, username, password):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token()})


def test_an_old_hash_is_rehashed_as_argon2id_at_the_next_login(app, client, accounts,
                                                               csrf_token, event_count):
    account = accounts["viewer"]
    _plant_scrypt_hash(app, account.id, account.password)
    before = event_count()
    assert _login(client, csrf_token, account.username, account.password).status_code == 302
    stored = _stored(app, account.id)
    assert stored["password"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert event_count() == before + 2  # the rehash, then the login (an access event)
    with app.app_context():
        event = db.session.execute(sa.select(change_events).where(
            change_events.c.entity == "user").order_by(
            change_events.c.seq.desc()).limit(1)).first()
    assert (event.entity, event.record_id, event.user_id) == ("user", account.id, account.id)
    assert client.get("/timeline").status_code == 200  # the new session survives its rehash
    # and the new hash works for the next login
    other = app.test_client()
    assert _login(other, lambda: csrf_token("/login", other), account.username,
                  account.password).status_code == 302


def test_a_wrong_password_leaves_the_old_hash_alone(app, client, accounts, csrf_token,
                                                    event_count):
    account = accounts["viewer"]
    old = _plant_scrypt_hash(app, account.id, account.password)
    before = event_count()
    assert _login(client, csrf_token, account.username, "not the password").status_code == 422
    assert _stored(app, account.id)["password"] == old
    assert event_count() == before + 1  # the failed login, an access event


def test_a_current_hash_is_not_rewritten(app, client, accounts, csrf_token):
    account = accounts["viewer"]
    before = _stored(app, account.id)
    assert _login(client, csrf_token, account.username, account.password).status_code == 302
    assert _stored(app, account.id)["version"] == before["version"]
