"""Where history was compacted on this node: each origin's chain start, the greatest
seq removed, and each record's compacted history (webapp/audit/compaction/run.py
writes them), as readers and replication ask."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, hlc, joined
from ..events import ChangeEvent
from ..tables import change_events
from .tables import compacted_records, compaction_origins, compaction_runs, log_marks


def starts(session: Session) -> dict[str, str]:
    """{origin: the hash its remaining chain on this node starts from}, for compacted ones."""
    c = compaction_origins.c
    return {o: h for o, h in session.execute(sa.select(c.origin_node_id, c.start_hash))}


# Built once: every whole timeline page reads it (for its note on compacted history).
_COMPACTED = sa.select(compaction_origins.c.origin_node_id, compaction_origins.c.start_hlc) \
    .order_by(compaction_origins.c.origin_node_id)


def compacted_origins(session: Session) -> list[tuple[str, int]]:
    """(origin, HLC of its last event not kept here), for each compacted origin."""
    return [(o, int(t)) for o, t in session.execute(_COMPACTED)]


# compacted_origins as columns of another statement (each origin's id and HLC, joined).
COMPACTED_COLUMNS = joined.columns("compacted", sa.select(
    compaction_origins.c.origin_node_id + sa.cast(compaction_origins.c.start_hlc, sa.String)))


def compacted_origins_among(row: Mapping[str, Any]) -> list[tuple[str, int]] | None:
    """compacted_origins as a row holding COMPACTED_COLUMNS has them (None: not for sure)."""
    parts = joined.split(row, "compacted")
    if parts is None or not all(p[26:].isdigit() for p in parts):
        return None
    return sorted((p[:26], int(p[26:])) for p in parts)


# The greatest seq any compaction removed, as a column of another statement.
COMPACTED_THROUGH = sa.select(sa.func.max(compaction_runs.c.through_seq)).scalar_subquery() \
    .label("compacted_through")
_COMPACTED_THROUGH = sa.select(COMPACTED_THROUGH)  # built once


def compacted_through(session: Session) -> int:
    """The greatest seq any compaction removed here (0: none): a peer asking for events
    after an earlier seq may miss some, and needs a snapshot. It grows with every run
    that removes events, so readers that remember events check it (their generation)."""
    return compacted_through_among(session.execute(_COMPACTED_THROUGH).one()._mapping)


def compacted_through_among(row: Mapping[Any, Any]) -> int:
    """compacted_through as a row holding COMPACTED_THROUGH has it."""
    return int(row["compacted_through"] or 0)


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


def epoch(session: Session) -> str:
    """This node's restart epoch: the run id of its latest start from a snapshot (a
    bootstrap or a return), "" if it never started again. A node that started again
    no longer holds what it held before, so a peer that spared it "snapshot required"
    as the source of its own snapshot must stop sparing it."""
    r = compaction_runs.c
    found = session.execute(sa.select(r.run_id).where(r.source_node_id.is_not(None))
                            .order_by(r.through_seq.desc()).limit(1)).scalar()
    return str(found or "")


def snapshot_required(session: Session, after: int, brand_new: bool,
                      asker: str | None = None, asker_epoch: str = "") -> str | None:
    """Why peer `asker` asking for this node's events after seq `after` needs a
    snapshot first, or None. Either compaction removed events after `after`, or this
    node started again from a snapshot after `after` (its log now presupposes bases the
    asker never pulled from it; unless the asker is the peer whose snapshot it was, and
    has not started again since: `asker_epoch`, see epoch()), or
    this node's chains start past genesis (it compacted or bootstrapped) and the asker is
    brand-new (no events, no bases): the events here presuppose record bases it lacks."""
    if brand_new and any(session.execute(sa.select(table.c[0]).limit(1)).first() is not None
                         for table in (compaction_origins, compaction_runs)):
        return ("snapshot required: this node's history starts from a snapshot or a "
                "compaction, and you hold nothing yet: start from its snapshot with flask "
                "sync --peer NAME --bootstrap")
    r = compaction_runs.c
    spared = sa.and_(r.source_node_id == asker,
                     sa.func.coalesce(r.source_epoch, "") == asker_epoch)
    others = sa.or_(r.source_node_id.is_(None), sa.not_(spared)) \
        if asker is not None else sa.true()
    through = int(session.execute(sa.select(sa.func.max(r.through_seq)).where(others))
                  .scalar() or 0)
    if after < through:
        return (f"snapshot required: this node's log was compacted through seq {through:,} "
                f"(or started again from a snapshot there), and you asked for events after "
                f"seq {after:,} (start from its snapshot: flask sync --peer NAME --bootstrap)")
    return None


def holds_nothing(session: Session) -> bool:
    """Whether this node is brand-new: no events, no record bases, never bootstrapped
    (a snapshot may hold no base at all)."""
    return all(session.execute(sa.select(column).limit(1)).first() is None
               for column in (change_events.c.event_id, compacted_records.c.event_id,
                              compaction_runs.c.run_id))


@dataclass(frozen=True)
class CompactedRecord:
    """A record whose history before `hlc` was compacted here, and the state it had."""
    hlc: int
    event_id: str
    op: str
    schema_version: int
    state: dict[str, Any] | None  # None: its last removed event deleted it


# Built once: every record page reads it, and building it cost more than running it.
_BASE = sa.select(compacted_records.c.seq, compacted_records.c.hlc,
                  compacted_records.c.event_id, compacted_records.c.op,
                  compacted_records.c.schema_version, compacted_records.c.post_state).where(
    compacted_records.c.entity == sa.bindparam("entity"),
    compacted_records.c.record_id == sa.bindparam("record_id"))


def compacted_record(session: Session, entity: str, record_id: str) -> CompactedRecord | None:
    """The record's base, as readers say it (op "snapshot": it came in a snapshot)."""
    row = session.execute(_BASE, {"entity": entity, "record_id": record_id}).first()
    if row is None:
        return None
    state = canonical.loads(row.post_state) if row.post_state is not None else None
    return CompactedRecord(int(row.hlc), row.event_id, "snapshot" if row.seq is None else row.op,
                           int(row.schema_version), state)


def readable(ts: int) -> str:
    return hlc.to_datetime(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def compacted_message(note: CompactedRecord) -> str:
    """The reason readers give: history before <date> compacted."""
    when = readable(note.hlc)
    if note.op == "snapshot":  # this node started from a snapshot: it never had it
        return f"history before {when} is not on this node (it started from a snapshot)"
    return f"history before {when} was compacted on this node"


def mark_arrival(session: Session, now_ms: int) -> None:
    """Note that this node's log reached its current last seq by `now_ms` (retention
    goes by these marks). The caller commits."""
    stored = session.execute(sa.select(sa.func.max(change_events.c.seq))).scalar()
    seq = max(int(stored or 0), compacted_through(session))
    latest = session.execute(sa.select(log_marks.c.seq, log_marks.c.arrived_ms)
                             .order_by(log_marks.c.seq.desc()).limit(1)).first()
    if seq and (latest is None or (seq > latest.seq and now_ms >= latest.arrived_ms)):
        session.execute(log_marks.insert().values(seq=seq, arrived_ms=now_ms))


def arrived_before(session: Session, ms: int) -> int:
    """The greatest seq whose events had all arrived here before `ms` (0: none known)."""
    return int(session.execute(sa.select(sa.func.max(log_marks.c.seq))
                               .where(log_marks.c.arrived_ms < ms)).scalar() or 0)
