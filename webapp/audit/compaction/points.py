"""Where history was compacted on this node: each origin's chain start and the greatest
seq removed (webapp/audit/compaction/run.py writes them)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..events import ChangeEvent
from .tables import compaction_origins, compaction_runs


def starts(session: Session) -> dict[str, str]:
    """{origin: the hash its remaining chain on this node starts from}, for compacted ones."""
    c = compaction_origins.c
    return {o: h for o, h in session.execute(sa.select(c.origin_node_id, c.start_hash))}


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
