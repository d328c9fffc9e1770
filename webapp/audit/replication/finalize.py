"""The end of a batch: turn each changed record's heads into its stored row or
tombstone (concurrent live heads merged field by field), settle unique values, and bring
its conflicts up to date."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, vv
from ..compaction.tables import compacted_records
from ..entity import Entity, Policy, Registry
from ..events import ChangeEvent
from ..tables import change_events as ev
from ..tables import tombstones
from . import conflicts as cf
from . import unique, writes
from .headevents import ensure_event_id, ensure_loaded, fill, histories, prefetch
from .heads import Head, head_of, is_collision, merged, winner
from .history import History
from .merge import Merged
from .models import (
    AUTO,
    CONCURRENT_UPDATE,
    MERGED,
    OPEN,
    RESOLVED,
    UNIQUE_COLLISION,
    UPDATE_DELETE,
)
from .state import RecordState
from .tables import replication_heads


@dataclass
class Outcome:
    state: RecordState
    winner: Head
    vv: dict[str, int]
    merged: Merged | None = None  # the live heads merged, when there were several
    history: History | None = None

    @property
    def live(self) -> dict[str, Any] | None:
        if self.winner.deleted:
            return None
        return self.merged.state if self.merged is not None else self.winner.state

    def side(self, session: Session) -> cf.SideRef:
        head = self.winner
        return cf.SideRef(ensure_event_id(session, self.state, head), self.state.record_id,
                          head.origin_node_id, head.hlc, head.user_id)


def finalize(session: Session, registry: Registry, changed: list[RecordState],
             stored: list[ChangeEvent]) -> None:
    """`stored`: the batch's events (upcast), which a merge need not read back."""
    groups: dict[str, list[RecordState]] = defaultdict(list)
    for state in changed:
        groups[state.entity.name].append(state)
    here: dict[tuple[str, str], list[ChangeEvent]] = defaultdict(list)
    for event in stored:
        here[(event.entity, event.record_id)].append(event)
    for name in sorted(groups):
        entity = registry.get(name)
        found = histories(session, registry, name,
                          [s.record_id for s in groups[name] if s.recheck or _merging(s.heads)])
        for rid, history in found.items():
            history.add(here.get((name, rid), ()))
        prefetch(session, registry, {s.record_id: _needed(s, found[s.record_id])
                                     for s in groups[name] if s.record_id in found}, found)
        outcomes = {}
        for state in groups[name]:
            outcomes[state.record_id] = _outcome(session, registry, state,
                                                 found.get(state.record_id))
        _write(session, entity, outcomes)


def _needed(state: RecordState, history: History) -> list[str]:
    """Ids of the whole events settling this record will read (see _outcome and
    _settled), so that a batch reads all of them in one go."""
    live = [h.vv for h in state.heads if not h.deleted]
    # Heads whose states are not here; when several live heads merge, all of them (a
    # disputed field is ranked by the change that set it, most often the head itself).
    dots = [(h.origin_node_id, h.vv.get(h.origin_node_id, 0)) for h in state.heads
            if not h.loaded or len(live) > 1]
    wanted = history.missing(k for k in map(history.by_dot.get, dots) if k is not None)
    if len(live) > 1:
        wanted += history.need_for_merge(live)  # see History.merge
    for sides, settler in history.settlements() if state.recheck else []:
        wanted += history.missing([settler, *sides])
        wanted += history.need_for_merge([e.vv_after for e in sides])
    return wanted


def _merging(heads: list[Head]) -> bool:
    return sum(not h.deleted for h in heads) > 1


def _outcome(session: Session, registry: Registry, state: RecordState,
             history: History | None) -> Outcome:
    if history is not None:
        for head in state.heads:
            fill(history, head)
    head = ensure_loaded(session, registry, winner(state.heads))
    merge = None
    if history is not None and not head.deleted and _merging(state.heads):
        merge = history.merge(state.heads)
    return Outcome(state, head, merged(state.heads), merge, history)


def _write(session: Session, entity: Entity, outcomes: dict[str, Outcome]) -> None:
    plan = unique.UniquePlan()
    if entity.unique_fields:
        plan = unique.plan(session, entity, {
            rid: (o.state.logical, o.live) for rid, o in outcomes.items()},
            {(f, rid) for rid, o in outcomes.items() for f in o.state.renames})
    rows, edits, tombs, heads = [], [], [], []
    indexed = writes.indexed(entity)
    for rid, out in outcomes.items():
        win = out.winner
        if out.live is not None:
            row = writes.encode({
                "id": rid, "version": vv.version_of(out.vv), "vv": out.vv, "hlc": win.hlc,
                "origin_node_id": win.origin_node_id,
                **{f: out.live.get(f) for f in entity.fields}, **plan.stored.get(rid, {})})
            old = out.state.row
            if old is not None and rid not in plan.others and all(
                    old[f] == row[f] for f in indexed):
                edits.append(row)  # updated in place: no index entry moves
            else:
                rows.append(row)
        else:
            tombs.append({"entity": entity.name, "record_id": rid, "vv": canonical.dumps(out.vv),
                          "hlc": win.hlc, "origin_node_id": win.origin_node_id,
                          "event_id": ensure_event_id(session, out.state, win),
                          "last_state": _text(win.pre_state),  # upcast: current
                          "schema_version": entity.schema_version})
        if len(out.state.heads) > 1:
            heads += [{"entity": entity.name, "record_id": rid, "deleted": h.deleted,
                       "event_id": ensure_event_id(session, out.state, h), "hlc": h.hlc,
                       "origin_node_id": h.origin_node_id, "vv": canonical.dumps(h.vv)}
                      for h in out.state.heads]
    had = [o.state for o in outcomes.values()]
    others = writes.other_rows(session, entity, plan)
    kept = {r["id"] for r in edits}
    gone = [s.record_id for s in had if s.row and s.record_id not in kept]
    writes.replace_rows(session, entity, gone + list(plan.others), rows + others)
    writes.edit_rows(session, entity, edits)
    writes.replace_entries(session, tombstones, entity, [s.record_id for s in had if s.tomb],
                           tombs)
    writes.replace_entries(session, replication_heads, entity,
                           [s.record_id for s in had if s.had_heads_rows], heads)
    writes.write_renames(session, entity, plan)
    _settle_records(session, entity, outcomes)
    if plan.contests:
        settle_values(session, entity, plan, {rid: o.side for rid, o in outcomes.items()})


def _settle_records(session: Session, entity: Entity, outcomes: dict[str, Outcome]) -> None:
    """Every changed record's conflicts brought up to date (settle_records reads what is
    stored for all of them at once, and writes only where something changes)."""
    plans: dict[str, cf.Plan] = {}
    for rid, out in sorted(outcomes.items()):
        heads = out.state.heads
        past = _settled(session, entity, out) if out.state.recheck else []
        current = _wanted(session, entity, out, heads, settled=False) \
            if is_collision(heads) else None
        plans[rid] = (current, past)
    cf.settle_records(session, entity.name, plans)


def _settled(session: Session, entity: Entity, out: Outcome) -> list[tuple[cf.Wanted, cf.SideRef]]:
    """The record's settled collisions as conflicts, each closed by its first settler."""
    history = out.history
    if history is None:
        return []
    return [(_wanted(session, entity, out, [head_of(history.event(e)) for e in sides],
                     settled=True), _side(session, out, head_of(history.event(settler))))
            for sides, settler in history.settlements()]


def _side(session: Session, out: Outcome, head: Head) -> cf.SideRef:
    return cf.SideRef(ensure_event_id(session, out.state, head), out.state.record_id,
                      head.origin_node_id, head.hlc, head.user_id)


def _wanted(session: Session, entity: Entity, out: Outcome, heads: list[Head],
            settled: bool) -> cf.Wanted:
    """The conflict of a collision of `heads`: its id, kind, status and sides, with
    the fields each side changed and lost in their merge."""
    rid, top = out.state.record_id, winner(heads)
    merge = out.merged if heads is out.state.heads else None
    if merge is None and out.history is not None and not top.deleted and _merging(heads):
        merge = out.history.merge(heads)
    changed = merge.changed if merge is not None else {}
    lost = merge.lost if merge is not None else {}
    sides = [cf.SideRef(ensure_event_id(session, out.state, h), rid, h.origin_node_id, h.hlc,
                        fields=changed.get(h.event_id or ""), lost=lost.get(h.event_id or "", ()))
             for h in heads]
    kind = UPDATE_DELETE if any(h.deleted for h in heads) else CONCURRENT_UPDATE
    disputed = merge.disputed if merge is not None else None
    if kind == CONCURRENT_UPDATE and disputed == ():
        status = MERGED  # nothing disputed: the record holds every side's changes
    elif entity.policy == Policy.MANUAL:
        status = RESOLVED if settled else OPEN
    else:
        status = AUTO
    return cf.Wanted(
        cf.conflict_id("record", entity.name, rid, *sorted(s.event_id for s in sides)),
        entity.name, rid, kind, status, ensure_event_id(session, out.state, top), sides,
        disputed=disputed)


def settle_values(session: Session, entity: Entity, plan: unique.UniquePlan,
                  touched: dict[str, Any]) -> None:
    """One open conflict per contested value; `touched` maps a changed record's id to a
    function giving the SideRef of its winning event."""
    for contest in plan.contests:
        hashed = cf.value_hash(contest.value)
        scope = cf.value_scope(entity.name, contest.field, hashed)
        if len(contest.claimants) < 2:
            closer = next((touched[r](session) for r in contest.movers if r in touched), None)
            cf.settle(session, scope, None, closer)
            continue
        sides = [touched[r](session) if r in touched else _row_side(session, entity, r)
                 for r in contest.claimants]
        wanted = cf.Wanted(
            cf.conflict_id("unique", entity.name, contest.field, *contest.claimants),
            entity.name, contest.claimants[1], UNIQUE_COLLISION, OPEN, sides[0].event_id,
            sides, contest.field, hashed)
        cf.settle(session, scope, wanted, None)


def _row_side(session: Session, entity: Entity, record_id: str) -> cf.SideRef:
    """The winning event of a record this transaction did not change: in the log, or,
    when compaction removed it (or it came in a snapshot), the record's base."""
    table = entity.table
    row = session.execute(sa.select(table.c.hlc, table.c.origin_node_id)
                          .where(table.c.id == record_id)).one()
    event = None
    for events in (ev, compacted_records):
        event = session.execute(sa.select(events.c.event_id, events.c.user_id).where(
            events.c.entity == entity.name, events.c.record_id == record_id,
            events.c.hlc == row.hlc, events.c.origin_node_id == row.origin_node_id)).first()
        if event is not None:
            break
    if event is None:
        raise RuntimeError(f"{entity.name} {record_id}: neither the log nor its base holds "
                           "the event that wrote it")
    return cf.SideRef(event.event_id, record_id, row.origin_node_id, row.hlc, event.user_id)


def _text(value: dict[str, Any] | None) -> str | None:
    return None if value is None else canonical.dumps(value)
