"""A node coming back after its peer compacted what it had not fetched (SPEC 7): it starts
again from the peer's snapshot, keeps its own events the peer has not seen, and replays
them through the apply path (conflict detection included) once the snapshot is in.

Its own events the peer has seen are in the snapshot's bases and the peer's remaining
log, like everyone else's; so is every other origin's event it held (each origin still
has its own). What it has not sent is only its own: the events of its chain after the
head the peer holds for it (the snapshot's `chains`). Its events after the start of its
chain in the snapshot (`starts`: what the bases hold) are read whole, the node's
replicated state is emptied, and its chain head is set back to that start, so the
replayed events link to it as they always did: they keep their ids, hashes and
signatures (those the peer's log holds are then "already had" when pulled back). Seqs
go on rising, but the log now presupposes the snapshot's bases: the bootstrap is noted
as a compaction through one seq past the last (compaction/bootstrap.py), so a peer's
older cursor on this log gets "snapshot required"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..entity import Registry
from ..events import ChangeEvent
from ..node import GENESIS_HASH
from ..replication.chaintables import chain_heads, chain_waiting
from ..replication.tables import (
    conflict_sides,
    conflicts,
    parked_events,
    replication_cursors,
    replication_heads,
    unique_renames,
)
from ..tables import change_events as ev
from ..tables import node_state, tombstones
from .tables import compacted_records, compaction_origins, compaction_runs, log_marks

MAX_UNSENT = 1_000_000  # more own events than this unsent: refused (memory)


class ReturningError(ValueError):
    """This node cannot start again from that snapshot (the reason says why)."""


def unsent(session: Session, own: str, peer_head: Mapping[str, Any] | None) -> list[ChangeEvent]:
    """This node's own events after `peer_head` (the start of this node's chain in the
    peer's snapshot: hash; None: none), in chain order, as stored."""
    where = ev.c.origin_node_id == own
    compacted_own = session.execute(sa.select(compaction_origins.c.start_hash).where(
        compaction_origins.c.origin_node_id == own)).first()
    if peer_head is None and compacted_own is not None:
        raise ReturningError(
            "this node holds some of its own earlier events only as compacted bases, and the "
            "peer has none of them: starting again from its snapshot would drop them; sync "
            "them to a peer that has this node's earlier events, or keep this node as it is")
    if peer_head is not None:
        found = session.execute(sa.select(ev.c.hlc, ev.c.event_id).where(
            where, ev.c.hash == peer_head.get("hash"))).first()
        if found is None:
            raise ReturningError(
                "the peer's snapshot starts this node's chain at an event this node does not have "
                "(was this database restored from an older backup?): refusing to start "
                "again from its snapshot, which could drop events only this node had")
        where = sa.and_(where, sa.tuple_(ev.c.hlc, ev.c.event_id) > sa.tuple_(*found))
    count = int(session.execute(sa.select(sa.func.count()).where(where)).scalar_one())
    if count > MAX_UNSENT:
        raise ReturningError(f"{count:,} own events not sent yet: more than "
                             f"{MAX_UNSENT:,}; sync them to another peer first")
    rows = session.execute(sa.select(ev).where(where).order_by(ev.c.hlc, ev.c.event_id)).all()
    return [replace(ChangeEvent.from_row(row._mapping), seq=None) for row in rows]


def start_again(session: Session, registry: Registry, own_head: str) -> None:
    """Empty what this node holds of the shared history (records, events, replication
    state, compaction points), and set its chain head back to `own_head`. The caller
    then writes the snapshot and commits (all or nothing)."""
    for table in (conflict_sides, conflicts, replication_heads, unique_renames, parked_events,
                  chain_waiting, chain_heads, replication_cursors, tombstones,
                  *(e.table for e in reversed(list(registry))), compacted_records,
                  compaction_origins, compaction_runs, log_marks, ev):
        session.execute(table.delete())
    session.execute(node_state.update().values(last_hash=own_head or GENESIS_HASH))
