"""Migration 0014 gives every existing tombstone the schema version of the event that
deleted its record (1 when that event is not here), and undoes cleanly; run as an admin
would (`flask db upgrade` in a process of its own), on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.integration.test_migrations import flask_db
from tests.support.databases import database_url
from webapp.audit.db import make_engine

EVENT = ("INSERT INTO change_events (seq, event_id, origin_node_id, hlc, entity, record_id, "
         "op, params, vv_before, vv_after, schema_version, idempotency_key, meta, prev_hash, "
         "hash) VALUES (1, :event_id, :node, 1, 'part', :record_id, 'deleted', '{}', '{}', "
         "'{}', 3, 'k', '{}', :h, :h)")
TOMB = ("INSERT INTO tombstones (entity, record_id, vv, hlc, origin_node_id, event_id, "
        "last_state) VALUES ('part', :record_id, '{}', 1, :node, :event_id, '{}')")
NODE = "01M9000000000000000000000N"


def test_existing_tombstones_get_their_deleting_events_version(backend: str,
                                                              tmp_path: Path) -> None:
    url = database_url(backend, "tombver", tmp_path)
    flask_db(url, "upgrade", "0012")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(EVENT), {"event_id": "01M9000000000000000000000E",
                                          "node": NODE, "record_id": "01M9000000000000000000000A",
                                          "h": "0" * 64})
            for record, event in (("01M9000000000000000000000A", "01M9000000000000000000000E"),
                                  ("01M9000000000000000000000B", "01M900000000000000000000GO")):
                conn.execute(sa.text(TOMB), {"record_id": record, "node": NODE,
                                             "event_id": event})
        flask_db(url, "upgrade")
        with engine.connect() as conn:
            found = dict(conn.execute(sa.text(
                "SELECT record_id, schema_version FROM tombstones ORDER BY record_id")).all())
        assert found == {"01M9000000000000000000000A": 3, "01M9000000000000000000000B": 1}
        flask_db(url, "downgrade", "0012")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("tombstones")}
        assert "schema_version" not in columns
    finally:
        engine.dispose()
