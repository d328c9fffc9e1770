"""Replication's own tables, on the core metadata (migration 0002 creates them)."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import TABLE_ARGS, LongText, metadata

# What this node has applied from each peer's log: the tracking record, written in the
# same transaction as the changes it covers.
replication_cursors = sa.Table(
    "replication_cursors",
    metadata,
    sa.Column("source_node_id", sa.String(26), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_hlc", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)

# The concurrent versions of a record, while there is more than one (a collision). A
# record with a single head needs no row: its row or tombstone says everything.
replication_heads = sa.Table(
    "replication_heads",
    metadata,
    sa.Column("entity", sa.String(40), primary_key=True),
    sa.Column("record_id", sa.String(26), primary_key=True),
    sa.Column("event_id", sa.String(26), primary_key=True),
    sa.Column("vv", sa.Text, nullable=False),
    sa.Column("hlc", sa.BigInteger, nullable=False),
    sa.Column("origin_node_id", sa.String(26), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    **TABLE_ARGS,
)

# A record that lost a unique value to another record (same username made on two
# nodes) keeps its record; its stored value is suffixed and its own value kept here.
unique_renames = sa.Table(
    "unique_renames",
    metadata,
    sa.Column("entity", sa.String(40), primary_key=True),
    sa.Column("field", sa.String(64), primary_key=True),
    sa.Column("record_id", sa.String(26), primary_key=True),
    sa.Column("value_hash", sa.String(64), nullable=False),
    sa.Column("value", LongText, nullable=False),
    sa.Index("ix_unique_renames_value", "entity", "field", "value_hash"),
    **TABLE_ARGS,
)

conflicts = sa.Table(
    "conflicts",
    metadata,
    sa.Column("conflict_id", sa.String(32), primary_key=True),
    sa.Column("entity", sa.String(40), nullable=False),
    sa.Column("record_id", sa.String(26), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("field", sa.String(64)),
    sa.Column("value_hash", sa.String(64)),
    sa.Column("winner_event_id", sa.String(26), nullable=False),
    sa.Column("opened_hlc", sa.BigInteger, nullable=False),
    sa.Column("resolved_event_id", sa.String(26)),
    sa.Column("resolved_by", sa.String(64)),
    sa.Column("resolved_hlc", sa.BigInteger),
    sa.Column("superseded_by", sa.String(32)),
    # Record conflicts: the fields the sides changed to different values (JSON list).
    sa.Column("disputed", sa.Text),
    sa.Index("ix_conflicts_status", "status", "entity", "opened_hlc"),
    sa.Index("ix_conflicts_record", "entity", "record_id"),
    sa.Index("ix_conflicts_value", "entity", "field", "value_hash"),
    **TABLE_ARGS,
)

conflict_sides = sa.Table(
    "conflict_sides",
    metadata,
    sa.Column("conflict_id", sa.String(32), primary_key=True),
    sa.Column("event_id", sa.String(26), primary_key=True),
    sa.Column("record_id", sa.String(26), nullable=False),
    sa.Column("origin_node_id", sa.String(26), nullable=False),
    # Record conflicts: the fields this side changed since the common ancestor, and
    # which of them it lost, as JSON {"changed": [...], "lost": [...]}.
    sa.Column("fields", sa.Text),
    sa.Index("ix_conflict_sides_event", "event_id"),
    sa.Index("ix_conflict_sides_origin", "origin_node_id"),
    **TABLE_ARGS,
)

# Remote events waiting for a record they refer to (a project before its team).
parked_events = sa.Table(
    "parked_events",
    metadata,
    sa.Column("event_id", sa.String(26), primary_key=True),
    sa.Column("source_node_id", sa.String(26), nullable=False),
    sa.Column("waiting_entity", sa.String(40), nullable=False),
    sa.Column("waiting_record_id", sa.String(26), nullable=False),
    sa.Column("body", LongText, nullable=False),
    sa.Column("parked_hlc", sa.BigInteger, nullable=False),
    sa.Index("ix_parked_waiting", "waiting_entity", "waiting_record_id"),
    **TABLE_ARGS,
)

# The schema version of each entity that this node's derived data (conflicts' fields,
# unique renames) was last computed at; an upgrade settles them again (see upgrades.py).
# No row: computed at version 1. Migration 0014 creates it.
derived_versions = sa.Table(
    "derived_schema_versions",
    metadata,
    sa.Column("entity", sa.String(40), primary_key=True),
    sa.Column("schema_version", sa.Integer, nullable=False),
    **TABLE_ARGS,
)
