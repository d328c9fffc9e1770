"""The activity roll-up: events per hour, by entity, user and origin node (one narrow
row per hour and key, so a chart over weeks reads thousands of rows, not the log), and
how far into the log (by seq) it has counted."""

from __future__ import annotations

import sqlalchemy as sa

from ..audit.tables import TABLE_ARGS, metadata

activity_counts = sa.Table(
    "activity_counts",
    metadata,
    sa.Column("hour", sa.BigInteger, primary_key=True),  # wall ms of the event's HLC // 1 h
    sa.Column("dim", sa.String(8), primary_key=True),  # "all", "entity", "user" or "node"
    sa.Column("key", sa.String(100), primary_key=True),  # "" for "all"
    sa.Column("count", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)

activity_state = sa.Table(
    "activity_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # the one row: 1
    sa.Column("counted_seq", sa.BigInteger, nullable=False),  # every event up to it is counted
    **TABLE_ARGS,
)
