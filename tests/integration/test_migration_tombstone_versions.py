"""Migration 0014 gives every existing tombstone the schema version of the event that
deleted its record (when that event is not here, the record's latest event's; 1 when
none is), creates derived_schema_versions, and undoes cleanly, the tombstones kept
through a downgrade and a second upgrade; run as an admin would (`flask db upgrade` in
a process of its own), on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.integration.test_migrations import flask_db
from tests.support.databases import database_url
from webapp.audit.db import make_engine

EVENT = ("INSERT INTO change_events (seq, event_id, origin_node_id, hlc, entity, record_id, "
         "op, params, vv_before, vv_after, schema_version, idempotency_key, meta, prev_hash, "
         "hash) VALUES (:seq, :event_id, :node, :seq, 'part', :record_id, :op, '{}', '{}', "
         "'{}', :version, :event_id, '{}', :h, :h)")
TOMB = ("INSERT INTO tombstones (entity, record_id, vv, hlc, origin_node_id, event_id, "
        "last_state) VALUES ('part', :record_id, '{}', 1, :node, :event_id, '{}')")
NODE = "01M9000000000000000000000N"


A, B, C = ("01M9000000000000000000000A", "01M9000000000000000000000B",
           "01M9000000000000000000000C")


def _tombstones(engine: sa.Engine) -> dict[str, tuple[str, str, int | None]]:
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("tombstones")}
        version = "schema_version" if "schema_version" in columns else "NULL"
        return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(sa.text(
            f"SELECT record_id, event_id, last_state, {version} FROM tombstones"))}


def test_existing_tombstones_get_their_deleting_events_version(backend: str,
                                                              tmp_path: Path) -> None:
    url = database_url(backend, "tombver", tmp_path)
    flask_db(url, "upgrade", "0012")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # A: deleted by an event stored here (v3). C: its deleting event is not
            # here, an earlier one is (v2). B: none of its events is here.
            for seq, event, record, op, version in (
                    (1, "01M9000000000000000000000E", A, "deleted", 3),
                    (2, "01M9000000000000000000000F", C, "created", 1),
                    (3, "01M9000000000000000000000G", C, "updated", 2)):
                conn.execute(sa.text(EVENT), {"seq": seq, "event_id": event, "node": NODE,
                                              "record_id": record, "op": op,
                                              "version": version, "h": f"{seq:064d}"})
            for record, event in ((A, "01M9000000000000000000000E"),
                                  (B, "01M900000000000000000000GO"),
                                  (C, "01M900000000000000000000GP")):
                conn.execute(sa.text(TOMB), {"record_id": record, "node": NODE,
                                             "event_id": event})
        before = _tombstones(engine)
        expected = {A: 3, B: 1, C: 2}
        for _ in range(2):  # upgraded, downgraded and upgraded again: nothing lost
            flask_db(url, "upgrade")
            found = _tombstones(engine)
            assert {k: v[2] for k, v in found.items()} == expected
            assert {k: v[:2] for k, v in found.items()} == {k: v[:2] for k, v in before.items()}
            assert "derived_schema_versions" in sa.inspect(engine).get_table_names()
            flask_db(url, "downgrade", "0012")
            columns = {c["name"] for c in sa.inspect(engine).get_columns("tombstones")}
            assert "schema_version" not in columns
            assert "derived_schema_versions" not in sa.inspect(engine).get_table_names()
            assert _tombstones(engine) == before
    finally:
        engine.dispose()
