"""What verification cannot prove: records whose history starts from bases that came in
a peer's snapshot (this node bootstrapped, or came back, from it). Each base is checked
(bases.py) and the record is proven from it on, but whether the base was the record's
latest state at the peer's cut, and whether the peer left a record out, rests on that
peer: a relaying peer can serve an older, genuinely signed event as a base."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from ulid import ULID

from ..compaction.tables import compacted_records, compaction_runs


def resting_on_snapshots(session: Session) -> list[str]:
    """A line for the snapshot this node started from, if it did (none otherwise). Said
    even when no base came in it: the peer could have left every record out."""
    count = int(session.execute(sa.select(sa.func.count()).select_from(compacted_records)
                                .where(compacted_records.c.seq.is_(None))).scalar_one())
    r = compaction_runs.c
    run = session.execute(sa.select(r.snapshot_id, r.source_node_id)
                          .where(r.source_node_id.is_not(None))
                          .order_by(r.done_ms.desc()).limit(1)).first()
    if run is None:
        return [f"{count:,} record(s) rest on a peer's snapshot (not provable beyond it)"] \
            if count else []
    taken = ULID.from_str(run.snapshot_id).datetime.strftime("%Y-%m-%d %H:%M UTC")
    return [f"{count:,} record(s) rest on node {run.source_node_id}'s snapshot "
            f"{run.snapshot_id} of {taken} (not provable beyond it: that peer could have "
            "left records out or served older signed states; cross-check with flask audit "
            "verify on a node bootstrapped from a second peer)"]
