"""Migration 0010 gives every stored peer its key id under the new (HMAC) derivation, so
peers added before the upgrade still find each other."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from tests.integration.test_migrations import flask_db
from tests.support.databases import database_url
from webapp.audit.db import make_engine
from webapp.sync.signing import key_id

SECRET = "a-secret-shared-before-the-upgrade-" + "x" * 10


def test_stored_peers_get_their_key_id_recomputed(backend, tmp_path):
    url = database_url(backend, "rekey", tmp_path)
    flask_db(url, "upgrade", "0009")
    engine = make_engine(url)
    old = hashlib.sha256(SECRET.encode()).hexdigest()[:16]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO peers (name, url, secret, key_id, created_ms) "
                             "VALUES ('old', NULL, :s, :k, 1)"), {"s": SECRET, "k": old})
    flask_db(url, "upgrade", "0010")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT key_id FROM peers")).scalar_one()
    assert stored == key_id(SECRET) != old
    flask_db(url, "downgrade", "0009")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT key_id FROM peers")).scalar_one() == old
    engine.dispose()
