"""The core's own tables. Entity tables are built from their declarations (entity.py)
on the same MetaData, so Alembic sees one schema."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Stable constraint names, so migrations read the same on every database.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSON documents are stored as canonical text; MySQL's TEXT stops at 64 KiB.
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Binary collation on MariaDB so text compares and sorts as on PostgreSQL and SQLite.
TABLE_ARGS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

node_state = sa.Table(
    "node_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("node_id", sa.String(26), nullable=False),
    # Every audited transaction updates this one row first: that row lock serialises
    # writers, so seq order is commit order on every database.
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("last_hlc", sa.BigInteger, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    # This node's Ed25519 public key (hex), once it has one (keys.py); read with the lock,
    # so every audited transaction knows whether its last event must be signed.
    sa.Column("public_key", sa.String(64)),
    **TABLE_ARGS,
)

nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("node_id", sa.String(26), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_self", sa.Boolean, nullable=False, default=False),
    sa.Column("first_seen_hlc", sa.BigInteger, nullable=False),
    # The node's pinned Ed25519 public key (hex), and the node it was first learnt from
    # (itself for a direct peer; the relay for an origin it introduced).
    sa.Column("public_key", sa.String(64)),
    sa.Column("key_via", sa.String(26)),
    **TABLE_ARGS,
)

change_events = sa.Table(
    "change_events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(26), nullable=False, unique=True),
    sa.Column("origin_node_id", sa.String(26), nullable=False),
    sa.Column("hlc", sa.BigInteger, nullable=False),
    sa.Column("entity", sa.String(40), nullable=False),
    sa.Column("record_id", sa.String(26), nullable=False),
    sa.Column("op", sa.String(10), nullable=False),
    sa.Column("params", LongText, nullable=False),
    sa.Column("pre_state", LongText),
    sa.Column("post_state", LongText),
    sa.Column("vv_before", sa.Text, nullable=False),
    sa.Column("vv_after", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(100), nullable=False),
    sa.Column("user_id", sa.String(64)),
    sa.Column("request_id", sa.String(64)),
    sa.Column("client_ip", sa.String(45)),
    sa.Column("session_id", sa.String(64)),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("trace_id", sa.String(32)),
    sa.Column("span_id", sa.String(16)),
    sa.Column("meta", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # The origin's Ed25519 signature (hex) over its hash: on the last event of each of
    # its transactions (the chain covers the rest); None on events made before it had a key.
    sa.Column("signature", sa.String(128)),
    # A key is unique per origin node: two nodes may run "the same" command (same
    # record, version and params) concurrently, and a replica stores both events.
    sa.UniqueConstraint("idempotency_key", "origin_node_id"),
    sa.Index("ix_events_timeline", "hlc", "origin_node_id", "event_id"),
    # One index per timeline filter, each ending in the whole timeline order, so a
    # filtered page is one range scan with no sort step. With only (filter, hlc),
    # SQLite walks ix_events_timeline instead and reads the whole log for a rare value
    # (benchmarked at 1M events: op=deleted 55 ms -> 0.2 ms, entity=user and
    # op=deleted 1.8 s -> 65 ms). The operation filter matters most: deletes are rare.
    sa.Index("ix_events_record", "entity", "record_id", "hlc", "origin_node_id", "event_id"),
    sa.Index("ix_events_entity", "entity", "hlc", "origin_node_id", "event_id"),
    sa.Index("ix_events_user", "user_id", "hlc", "origin_node_id", "event_id"),
    sa.Index("ix_events_origin", "origin_node_id", "hlc", "event_id"),
    sa.Index("ix_events_op", "op", "hlc", "origin_node_id", "event_id"),
    **TABLE_ARGS,
)

tombstones = sa.Table(
    "tombstones",
    metadata,
    sa.Column("entity", sa.String(40), primary_key=True),
    sa.Column("record_id", sa.String(26), primary_key=True),
    sa.Column("vv", sa.Text, nullable=False),
    sa.Column("hlc", sa.BigInteger, nullable=False),
    sa.Column("origin_node_id", sa.String(26), nullable=False),
    sa.Column("event_id", sa.String(26), nullable=False),
    sa.Column("last_state", LongText),
    # The schema version of its entity last_state was written at: read, it is upcast
    # from there, as the node may have been upgraded since (migration 0014).
    sa.Column("schema_version", sa.Integer, nullable=False),
    **TABLE_ARGS,
)
