"""The tables that hold where each origin's hash chain stands on this node (migration 0008).

chain_heads: the last event of each remote origin's chain that this node has accepted
(stored, or parked waiting for a record); this node's own head is node_state.last_hash.
chain_waiting: signed events that arrived before their predecessor in their origin's
chain (a relay may hold an origin's events in another order); they wait, never dropped."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import TABLE_ARGS, LongText, metadata

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("origin_node_id", sa.String(26), primary_key=True),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("last_hlc", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)

chain_waiting = sa.Table(
    "chain_waiting",
    metadata,
    sa.Column("event_id", sa.String(26), primary_key=True),
    sa.Column("origin_node_id", sa.String(26), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("source_node_id", sa.String(26), nullable=False),
    sa.Column("body", LongText, nullable=False),
    sa.Index("ix_chain_waiting_origin", "origin_node_id", "prev_hash"),
    **TABLE_ARGS,
)
