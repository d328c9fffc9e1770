"""The activity roll-up: events per hour, and per hour and per day by entity, user and
origin node (one narrow row per bucket and key, so a chart reads hundreds or thousands
of rows, never the log), and how far into the log (by seq) it has counted."""

from __future__ import annotations

import sqlalchemy as sa

from ..audit.tables import TABLE_ARGS, metadata

activity_counts = sa.Table(
    "activity_counts",
    metadata,
    # "all", "entity", "user" or "node" per hour; "entity/d", "user/d", "node/d" per UTC
    # day (a chart over weeks reads one row per day and key, not 24). First in the key, so
    # a chart's read is one range of it.
    sa.Column("dim", sa.String(8), primary_key=True),
    sa.Column("hour", sa.BigInteger, primary_key=True),  # wall ms // 1 h (a day: its first)
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
