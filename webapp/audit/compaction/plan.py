"""What a compaction would remove, and what keeps the rest.

An event may go when the snapshot covers it (its seq is at most the snapshot's) and
every known peer has acknowledged it (has asked for this node's events after a seq at
least its own), or, when a retention is set, when it is older than the retention (the
admin's choice: retention overrides acknowledgement, never the snapshot). Events a
live conflict or a concurrent head still names stay. Each origin's chain is only ever
cut at its start (in its HLC order), so what remains still links up from one hash: an
origin's removable events after its first kept one stay too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..replication.conflicts import LIVE
from ..replication.tables import conflicts, replication_heads
from ..store import last_seq as last_seq_of
from ..tables import change_events as ev

Cut = tuple[int, str] | None  # an origin's first kept event (hlc, event id); None: keep none


@dataclass(frozen=True)
class SnapshotPoint:
    """The snapshot a compaction relies on (its file's header)."""
    snapshot_id: str
    node_id: str
    last_seq: int
    created_ms: int


@dataclass(frozen=True)
class Blocker:
    """A peer that has not acknowledged everything the snapshot covers."""
    peer: str
    acked_seq: int | None  # None: it has never asked this node for events


@dataclass
class Plan:
    snapshot: SnapshotPoint
    ack_bound: int  # every peer has this node's events up to here, and the snapshot covers them
    cutoff_hlc: int | None  # retention: events before this HLC go whatever peers acknowledged
    blockers: list[Blocker]
    cuts: dict[str, Cut] = field(default_factory=dict)  # every origin's cut
    removable: list[tuple[str, str, int]] = field(default_factory=list)  # entity, origin, n
    kept: list[tuple[str, str, str, int]] = field(default_factory=list)  # why, entity, origin, n

    @property
    def events(self) -> int:
        return sum(n for _, _, n in self.removable)

    @property
    def origins(self) -> list[str]:
        """The origins with events to remove."""
        return sorted({origin for _, origin, _ in self.removable})


def plan_compaction(session: Session, snapshot: SnapshotPoint,
                    acks: Mapping[str, int | None], cutoff_hlc: int | None = None) -> Plan:
    """Plan against `snapshot` (this node's), with each known peer's acknowledged seq
    on this node's log (None when unknown: that peer blocks acknowledgement)."""
    known = [seq for seq in acks.values() if seq is not None]
    ack_bound = 0 if len(known) < len(acks) else min([snapshot.last_seq, *known])
    blockers = sorted((Blocker(peer, seq) for peer, seq in acks.items()
                       if seq is None or seq < snapshot.last_seq),
                      key=lambda b: (b.acked_seq is not None, b.acked_seq or 0, b.peer))
    plan = Plan(snapshot, ack_bound, cutoff_hlc, blockers)
    eligible = _eligible(plan)
    origins = session.execute(sa.select(ev.c.origin_node_id).distinct()
                              .order_by(ev.c.origin_node_id)).scalars().all()
    for origin in origins:
        first_kept = session.execute(
            sa.select(ev.c.hlc, ev.c.event_id).where(ev.c.origin_node_id == origin, ~eligible)
            .order_by(ev.c.hlc, ev.c.event_id).limit(1)).first()
        cut: Cut = (int(first_kept.hlc), first_kept.event_id) if first_kept else None
        counts = session.execute(
            sa.select(ev.c.entity, sa.func.count()).where(removed(origin, cut))
            .group_by(ev.c.entity).order_by(ev.c.entity)).all()
        plan.cuts[origin] = cut
        if counts:
            plan.removable.extend((entity, origin, int(n)) for entity, n in counts)
    _explain_kept(session, plan, eligible)
    return plan


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


def removed(origin: str, cut: Cut) -> Any:
    """The events of `origin` before its cut: those a compaction removes."""
    where = ev.c.origin_node_id == origin
    if cut is None:
        return where
    return sa.and_(where, sa.tuple_(ev.c.hlc, ev.c.event_id) < sa.tuple_(*cut))


def _eligible(plan: Plan) -> Any:
    acknowledged = ev.c.seq <= plan.ack_bound
    if plan.cutoff_hlc is not None:
        acknowledged = sa.or_(acknowledged, ev.c.hlc < plan.cutoff_hlc)
    return sa.and_(ev.c.seq <= plan.snapshot.last_seq, acknowledged, ~_needed())


def _needed() -> Any:
    """Events a live conflict or a record's concurrent heads still name."""
    return sa.or_(ev.c.event_id.in_(sa.select(replication_heads.c.event_id)),
                  ev.c.event_id.in_(sa.select(conflicts.c.winner_event_id)
                                    .where(conflicts.c.status.in_(LIVE))))


def _explain_kept(session: Session, plan: Plan, eligible: Any) -> None:
    """Why the events the snapshot covers stay: per peer behind, per entity and origin."""
    covered = ev.c.seq <= plan.snapshot.last_seq
    retained = ev.c.hlc >= plan.cutoff_hlc if plan.cutoff_hlc is not None else sa.true()
    reasons: list[tuple[str, Any]] = []
    for blocker in plan.blockers:
        if blocker.acked_seq is None:
            why = f"peer {blocker.peer} (its cursor on this log is unknown)"
            reasons.append((why, sa.and_(covered, retained)))
        else:
            why = f"peer {blocker.peer} (acknowledged seq {blocker.acked_seq:,})"
            reasons.append((why, sa.and_(covered, retained, ev.c.seq > blocker.acked_seq)))
    reasons.append(("a live conflict or concurrent head names it",
                    sa.and_(covered, _needed())))
    cut_kept = [sa.and_(ev.c.origin_node_id == o, sa.tuple_(ev.c.hlc, ev.c.event_id)
                        >= sa.tuple_(*c)) for o, c in plan.cuts.items() if c is not None]
    if cut_kept:
        reasons.append(("an earlier event of its origin stays (chains are cut at their "
                        "start only)", sa.and_(eligible, sa.or_(*cut_kept))))
    for why, where in reasons:
        rows = session.execute(sa.select(ev.c.entity, ev.c.origin_node_id, sa.func.count())
                               .where(where).group_by(ev.c.entity, ev.c.origin_node_id)
                               .order_by(ev.c.entity, ev.c.origin_node_id)).all()
        plan.kept.extend((why, entity, origin, int(n)) for entity, origin, n in rows)
