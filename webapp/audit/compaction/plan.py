"""What a compaction would remove, and what keeps the rest.

Compaction cuts this node's log at one seq, `through`: every event at or below it goes.
A seq prefix is a prefix of each origin's chain (events of an origin are stored in
chain order), so what remains still links up from one hash per origin; and it is
causally closed (an event is stored after what it has seen), so each record's removed
events are exactly those its last removed event has seen: that event, kept whole as
the record's base (compacted_records), is the record as it was at the cut.

`through` is the greatest seq such that:
- the snapshot covers it, and every known node has acknowledged it (webapp/sync/acks.py:
  nothing any node can still send was made without it), or, with a retention set, it
  arrived here before the retention's start (the admin's choice: such a peer will need a
  snapshot);
- no record is cut inside a collision: a record whose events up to the cut are not all
  seen by its last one (concurrent versions not yet merged by a later change, an open
  conflict) keeps all its events, so every base is one event that has seen every other
  removed one, and every kept event of the record has seen the base."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..replication.models import OPEN
from ..replication.tables import conflict_sides, conflicts
from ..store import last_seq as last_seq_of
from ..tables import change_events as ev

SCAN_PAGE = 20_000  # events read at once by the collision scan
NEVER = 2**62  # a collision not merged yet: it holds until a later change sees every side


@dataclass(frozen=True)
class SnapshotPoint:
    """The snapshot a compaction relies on (its file's header)."""
    snapshot_id: str
    node_id: str
    last_seq: int
    created_ms: int


@dataclass(frozen=True)
class Blocker:
    """A known node that has not acknowledged everything the snapshot covers."""
    peer: str
    acked_seq: int | None  # None: unknown (never asked with `have`, or not a peer)


@dataclass(frozen=True)
class Hold:
    """A record whose collision keeps the cut below its first event."""
    entity: str
    record_id: str
    first_seq: int
    until_seq: int  # the change that merged it (NEVER: not merged yet)


@dataclass
class Plan:
    snapshot: SnapshotPoint
    ack_bound: int  # every known node has this node's events up to here, and the snapshot
    retention_seq: int | None  # events up to here arrived before the retention's start
    blockers: list[Blocker]
    through: int = 0  # the cut: every event at or below this seq goes
    holds: list[Hold] = field(default_factory=list)  # collisions that lowered the cut
    base_seqs: list[int] | None = None  # each record's last seq up to the cut, when known
    removable: list[tuple[str, str, int]] = field(default_factory=list)  # entity, origin, n
    kept: list[tuple[str, str, str, int]] = field(default_factory=list)  # why, entity, origin, n

    @property
    def events(self) -> int:
        return sum(n for _, _, n in self.removable)


def plan_compaction(session: Session, snapshot: SnapshotPoint,
                    acks: Mapping[str, int | None], retention_seq: int | None = None) -> Plan:
    """Plan against `snapshot` (this node's), with each known node's acknowledged seq on
    this node's log (None when unknown: that node blocks acknowledgement)."""
    known = [seq for seq in acks.values() if seq is not None]
    ack_bound = 0 if len(known) < len(acks) else min([snapshot.last_seq, *known])
    blockers = sorted((Blocker(peer, seq) for peer, seq in acks.items()
                       if seq is None or seq < snapshot.last_seq),
                      key=lambda b: (b.acked_seq is not None, b.acked_seq or 0, b.peer))
    plan = Plan(snapshot, ack_bound, retention_seq, blockers)
    wanted = min(snapshot.last_seq, max(ack_bound, retention_seq or 0))
    holds, last = collisions(session, wanted)
    plan.through = _below_holds(wanted, holds)
    if plan.through == wanted:  # each record's base is its last event up to the cut
        plan.base_seqs = sorted(last.values())
    plan.holds = [h for h in holds if h.first_seq <= wanted and h.until_seq > plan.through]
    rows = session.execute(
        sa.select(ev.c.entity, ev.c.origin_node_id, sa.func.count()).where(
            ev.c.seq <= plan.through).group_by(ev.c.entity, ev.c.origin_node_id)
        .order_by(ev.c.entity, ev.c.origin_node_id)).all()
    plan.removable = [(entity, origin, int(n)) for entity, origin, n in rows]
    _explain_kept(session, plan)
    return plan


def collisions(session: Session, up_to: int) -> tuple[list[Hold], dict[tuple[str, str], int]]:
    """Records whose events up to some seq are not all seen by the last of them: the
    seqs from their first event until the change that saw every side (or NEVER) are no
    place to cut. Also each record's last seq at most `up_to` (its base, if the cut is
    there). Streams the log in seq order, holding one vector per record; most events
    were written on the version just before them (their vv_before is, as text, the last
    vv_after), which needs no decoding."""
    if up_to <= 0:
        return [], {}
    # record -> [first seq, last vv_after text, join (decoded, while merging) or None]
    seen: dict[tuple[str, str], list[Any]] = {}
    last: dict[tuple[str, str], int] = {}
    holds: list[Hold] = []
    for seq, entity, record_id, before, after in _vectors(session):
        key = (entity, record_id)
        known = seen.get(key)
        if known is None:
            if seq <= up_to:
                seen[key], last[key] = [seq, after, None], seq
            continue
        if seq <= up_to:
            last[key] = seq
        if known[2] is None and before == known[1]:
            known[1] = after  # written on the version before it: it has seen all
            continue
        join = known[2] if known[2] is not None else orjson.loads(known[1])
        vv = orjson.loads(after)
        if all(vv.get(node, 0) >= count for node, count in join.items()):
            if known[2] is not None:
                holds.append(Hold(entity, record_id, known[0], seq))
            known[1], known[2] = after, None
        else:
            known[1] = after
            known[2] = {n: max(join.get(n, 0), vv.get(n, 0)) for n in join.keys() | vv.keys()}
    holds += [Hold(e, r, found[0], NEVER) for (e, r), found in seen.items()
              if found[2] is not None]
    # Every claimant of an open conflict keeps its events (a unique collision names only
    # the loser's record; the winner's side is in conflict_sides), so a node starting
    # from the snapshot pulls them and finds the same collision.
    sides = (sa.select(conflicts.c.entity, conflict_sides.c.record_id)
             .join(conflict_sides, conflict_sides.c.conflict_id == conflicts.c.conflict_id)
             .where(conflicts.c.status == OPEN))
    pending = session.execute(sa.union(
        sa.select(conflicts.c.entity, conflicts.c.record_id).where(conflicts.c.status == OPEN),
        sides)).all()
    for entity, record_id in pending:
        if (entity, record_id) in seen:
            holds.append(Hold(entity, record_id, seen[(entity, record_id)][0], NEVER))
    return holds, last


def _vectors(session: Session) -> Iterator[tuple[int, str, str, str, str]]:
    after = 0
    while True:
        rows = session.execute(sa.select(ev.c.seq, ev.c.entity, ev.c.record_id, ev.c.vv_before,
                                         ev.c.vv_after)
                               .where(ev.c.seq > after).order_by(ev.c.seq)
                               .limit(SCAN_PAGE)).all()
        for row in rows:
            yield int(row.seq), row.entity, row.record_id, row.vv_before, row.vv_after
        if len(rows) < SCAN_PAGE:
            return
        after = int(rows[-1].seq)


def _below_holds(wanted: int, holds: list[Hold]) -> int:
    """The greatest seq at most `wanted` outside every hold's [first, until)."""
    through, moved = wanted, True
    while moved:
        moved = False
        for hold in holds:
            if hold.first_seq <= through < hold.until_seq:
                through, moved = hold.first_seq - 1, True
    return through


def snapshot_mismatch(session: Session, last_seq: int,
                      own_head: Mapping[str, Any] | None) -> str | None:
    """Why this database is not the log the snapshot was taken of (restored from an
    older backup, say: its seqs would name other events), or None."""
    if last_seq > last_seq_of(session):
        return "is ahead of this database's log (restored from an older backup?)"
    if own_head is not None:
        found = session.execute(sa.select(ev.c.hash).where(ev.c.event_id == own_head["event_id"])
                                ).scalar()
        if found is not None and found != own_head["hash"]:
            return "does not match this database's log"
    return None


def _explain_kept(session: Session, plan: Plan) -> None:
    """Why the events the snapshot covers stay: per node behind, per collision."""
    covered = sa.and_(ev.c.seq > plan.through, ev.c.seq <= plan.snapshot.last_seq)
    reasons: list[tuple[str, Any]] = []
    for blocker in plan.blockers:
        if plan.retention_seq is not None and plan.retention_seq >= plan.snapshot.last_seq:
            continue  # retention overrides it
        if blocker.acked_seq is None:
            why = f"peer {blocker.peer} (its cursor on this log is unknown)"
            reasons.append((why, covered))
        else:
            why = f"peer {blocker.peer} (acknowledged seq {blocker.acked_seq:,})"
            reasons.append((why, sa.and_(covered, ev.c.seq > blocker.acked_seq)))
    for hold in plan.holds[:20]:
        until = "not merged yet" if hold.until_seq == NEVER else f"merged at seq {hold.until_seq:,}"
        why = (f"concurrent versions of {hold.entity} {hold.record_id} (from seq "
               f"{hold.first_seq:,}, {until})")
        reasons.append((why, sa.and_(covered, ev.c.seq >= hold.first_seq)))
    for why, where in reasons:
        rows = session.execute(sa.select(ev.c.entity, ev.c.origin_node_id, sa.func.count())
                               .where(where).group_by(ev.c.entity, ev.c.origin_node_id)
                               .order_by(ev.c.entity, ev.c.origin_node_id)).all()
        plan.kept.extend((why, entity, origin, int(n)) for entity, origin, n in rows)
