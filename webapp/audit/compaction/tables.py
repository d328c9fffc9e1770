"""What compaction leaves behind (migration 0013).

compaction_origins: per origin, where its remaining chain starts on this node (the hash
of its last removed event), so verification proves the rest from there.
compacted_records: per record whose events were (partly) removed, its last removed
event: when, and the state it left, for readers ("history before <date> compacted;
state then was ...") and for the record check.
compaction_runs: one row per compaction; the greatest seq removed tells a peer asking
for events after an older seq that it needs a snapshot."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import TABLE_ARGS, LongText, metadata

compaction_origins = sa.Table(
    "compaction_origins",
    metadata,
    sa.Column("origin_node_id", sa.String(26), primary_key=True),
    sa.Column("start_hash", sa.String(64), nullable=False),
    sa.Column("start_hlc", sa.BigInteger, nullable=False),
    sa.Column("start_event_id", sa.String(26), nullable=False),
    sa.Column("removed", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)

compacted_records = sa.Table(
    "compacted_records",
    metadata,
    sa.Column("entity", sa.String(40), primary_key=True),
    sa.Column("record_id", sa.String(26), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hlc", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.String(26), nullable=False),
    sa.Column("op", sa.String(10), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("state", LongText),  # the removed event's post-state (None: deleted)
    **TABLE_ARGS,
)

compaction_runs = sa.Table(
    "compaction_runs",
    metadata,
    sa.Column("run_id", sa.String(26), primary_key=True),
    sa.Column("snapshot_id", sa.String(26), nullable=False),
    sa.Column("snapshot_seq", sa.BigInteger, nullable=False),
    sa.Column("through_seq", sa.BigInteger, nullable=False),  # the greatest seq removed
    sa.Column("events_removed", sa.BigInteger, nullable=False),
    sa.Column("done_ms", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)
