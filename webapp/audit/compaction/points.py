"""Where history was compacted on this node: each origin's chain start, the greatest
seq removed, and each record's compacted history (webapp/audit/compaction/run.py
writes them), as readers and replication ask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, hlc
from ..events import ChangeEvent
from .tables import compacted_records, compaction_origins, compaction_runs


def starts(session: Session) -> dict[str, str]:
    """{origin: the hash its remaining chain on this node starts from}, for compacted ones."""
    c = compaction_origins.c
    return {o: h for o, h in session.execute(sa.select(c.origin_node_id, c.start_hash))}


def compacted_origins(session: Session) -> list[tuple[str, int]]:
    """(origin, HLC of its last event not kept here), for each compacted origin."""
    c = compaction_origins.c
    return [(o, int(t)) for o, t in session.execute(
        sa.select(c.origin_node_id, c.start_hlc).order_by(c.origin_node_id))]


def compacted_through(session: Session) -> int:
    """The greatest seq any compaction removed here (0: none): a peer asking for events
    after an earlier seq may miss some, and needs a snapshot."""
    return int(session.execute(sa.select(sa.func.max(compaction_runs.c.through_seq))).scalar()
               or 0)


def compacted_ids(session: Session, events: Sequence[ChangeEvent]) -> set[str]:
    """The ids among `events` at or before their origin's compacted chain start: this
    node had them and removed them, so a peer sending them again is sending old news."""
    origins = {e.origin_node_id for e in events}
    c = compaction_origins.c
    cut = {row.origin_node_id: (row.start_hlc, row.start_event_id) for row in session.execute(
        sa.select(c.origin_node_id, c.start_hlc, c.start_event_id)
        .where(c.origin_node_id.in_(origins)))} if origins else {}
    return {e.event_id for e in events
            if e.origin_node_id in cut and (e.hlc, e.event_id) <= cut[e.origin_node_id]}


@dataclass(frozen=True)
class CompactedRecord:
    """A record whose history before `hlc` was compacted here, and the state it had."""
    hlc: int
    event_id: str
    op: str
    schema_version: int
    state: dict[str, Any] | None  # None: its last removed event deleted it


def compacted_record(session: Session, entity: str, record_id: str) -> CompactedRecord | None:
    c = compacted_records.c
    row = session.execute(sa.select(c.hlc, c.event_id, c.op, c.schema_version, c.state)
                          .where(c.entity == entity, c.record_id == record_id)).first()
    if row is None:
        return None
    state = canonical.loads(row.state) if row.state is not None else None
    return CompactedRecord(int(row.hlc), row.event_id, row.op, int(row.schema_version), state)


def readable(ts: int) -> str:
    return hlc.to_datetime(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def compacted_message(note: CompactedRecord) -> str:
    """The reason readers give: history before <date> compacted."""
    when = readable(note.hlc)
    if note.op == "snapshot":  # this node started from a snapshot: it never had it
        return f"history before {when} is not on this node (it started from a snapshot)"
    return f"history before {when} was compacted on this node"
