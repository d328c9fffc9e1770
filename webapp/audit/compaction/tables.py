"""What compaction leaves behind (migration 0013).

compaction_origins: per origin, where its remaining chain starts on this node (its last
removed event: hash, HLC, id and signature, when it had one), so verification proves
the rest from there and a bootstrapping node can start each chain at the same place.
compacted_records: per record whose events were removed (or that came in a snapshot),
its base event, whole, as change_events holds it: the record's last removed event,
whose post-state and vector are the record as every node had it at the cut. Merges
read it as the common ancestor of a late concurrent edit (replication/history.py),
verification proves the record from it, readers say "history before <date> compacted;
state then was ...". seq is None for a base that came in a snapshot (never in this
node's log).
compaction_runs: one row per compaction (or bootstrap); the greatest seq removed tells
a peer asking for events after an older seq that it needs a snapshot. A bootstrap's row
covers one seq past the node's last before it, and names the peer it came from."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import TABLE_ARGS, change_events, metadata

compaction_origins = sa.Table(
    "compaction_origins",
    metadata,
    sa.Column("origin_node_id", sa.String(26), primary_key=True),
    sa.Column("start_hash", sa.String(64), nullable=False),
    sa.Column("start_hlc", sa.BigInteger, nullable=False),
    sa.Column("start_event_id", sa.String(26), nullable=False),
    sa.Column("start_signature", sa.String(128)),
    sa.Column("removed", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)


def _base_columns() -> list[sa.Column[object]]:
    """change_events' columns, keyed by record instead of seq: one base per record."""
    out: list[sa.Column[object]] = []
    for column in change_events.columns:
        if column.name == "seq":
            out.append(sa.Column("seq", sa.BigInteger))
        elif column.name in ("entity", "record_id"):
            out.append(sa.Column(column.name, column.type, primary_key=True))
        else:
            out.append(sa.Column(column.name, column.type, nullable=column.nullable))
    return out


compacted_records = sa.Table("compacted_records", metadata, *_base_columns(),
                             sa.Index("ix_compacted_records_event", "event_id"), **TABLE_ARGS)

# Columns a base event is read back with (ChangeEvent.from_row takes exactly these).
BASE_EVENT_COLUMNS = tuple(c for c in compacted_records.columns)

compaction_runs = sa.Table(
    "compaction_runs",
    metadata,
    sa.Column("run_id", sa.String(26), primary_key=True),
    sa.Column("snapshot_id", sa.String(26), nullable=False),
    sa.Column("snapshot_seq", sa.BigInteger, nullable=False),
    sa.Column("through_seq", sa.BigInteger, nullable=False),  # the greatest seq removed
    sa.Column("events_removed", sa.BigInteger, nullable=False),
    sa.Column("done_ms", sa.BigInteger, nullable=False),
    # A bootstrap's row: the peer whose snapshot this node started from (it has every
    # base it sent, so it alone need not take a snapshot back). None: a compaction.
    sa.Column("source_node_id", sa.String(26)),
    # The source's own restart epoch when it made the snapshot (see points.epoch): the
    # source is spared "snapshot required" only while it is still in that epoch.
    sa.Column("source_epoch", sa.String(26)),
    **TABLE_ARGS,
)

# When this node's log reached a seq: written when a pull ends and when compaction runs,
# so retention can go by when events arrived here (a peer's late event with an old HLC
# arrived just now: retention must not take it before peers had their days to fetch it).
log_marks = sa.Table(
    "log_marks",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("arrived_ms", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)
