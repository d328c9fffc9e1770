"""Keeping the conflicts table equal to what the heads and unique claims say.

A record with colliding heads has exactly one current conflict, whose id is a hash of
the entity, the record id and the sorted ids of the head events; a contested unique
value has one, a hash of the entity, field and the sorted ids of the claiming records.
Both are functions of the events a node holds, so every node derives the same ids
whatever the arrival order. When the set grows (a third writer), the old conflict is
superseded by the new one; when it shrinks to one, the conflict is resolved by the
event that settled it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..idlists import list_style, one_of
from ..transaction import chunks
from .models import AUTO, CONCURRENT_UPDATE, MERGED, OPEN, RESOLVED, SUPERSEDED, UPDATE_DELETE
from .tables import conflict_sides, conflicts

RECORD_KINDS = (CONCURRENT_UPDATE, UPDATE_DELETE)
LIVE = (OPEN, AUTO, MERGED)  # current: superseded when the collision grows


@dataclass(frozen=True)
class SideRef:
    event_id: str
    record_id: str
    origin_node_id: str
    hlc: int
    user_id: str | None = None
    fields: tuple[str, ...] | None = None  # what this side changed (record conflicts)
    lost: tuple[str, ...] = ()  # of those, the disputed fields whose value it lost


@dataclass(frozen=True)
class Wanted:
    """The one conflict that should be current in a scope."""

    conflict_id: str
    entity: str
    record_id: str
    kind: str
    status: str
    winner_event_id: str
    sides: list[SideRef]
    field: str | None = None
    value_hash: str | None = None
    disputed: tuple[str, ...] | None = None


def conflict_id(*parts: str) -> str:
    return canonical.sha256_hex(*parts)[:32]


def value_hash(value: object) -> str:
    return canonical.sha256_hex(canonical.dumps(value))


def settle(session: Session, scope: sa.ColumnElement[bool], wanted: Wanted | None,
           closer: SideRef | None) -> None:
    """Make `wanted` the current conflict of `scope` (None: there is none) and close or
    supersede every other live one there."""
    rows = session.execute(sa.select(conflicts.c.conflict_id, conflicts.c.status)
                           .where(scope, conflicts.c.status.in_(LIVE))).all()
    for row in rows:
        if wanted is not None and row.conflict_id == wanted.conflict_id:
            continue
        if wanted is not None:
            _update(session, row.conflict_id, status=SUPERSEDED,
                    superseded_by=wanted.conflict_id)
        elif row.status == OPEN and closer is not None:
            _update(session, row.conflict_id, status=RESOLVED,
                    resolved_event_id=closer.event_id, resolved_by=closer.user_id,
                    resolved_hlc=closer.hlc)
    if wanted is not None:
        _put(session, wanted)


Plan = tuple[Wanted | None, list[tuple[Wanted, SideRef]]]  # (current, past)


def settle_records(session: Session, entity: str, plans: dict[str, Plan]) -> None:
    """Make each record's conflicts what its events say, whatever order they came in.
    plans: record id -> (current, past): `current` is the collision of its heads (None:
    it has one head); each of `past` is a collision that an event written on exactly
    those heads settled, with that event. When several events settled the same
    collision, every node keeps the first by (hlc, event id). A live conflict that is
    neither was a passing state of this node's order of arrival: it is superseded.
    A few statements per 500 records, however many conflicts they hold."""
    existing = {}
    for chunk in chunks(sorted(plans)):
        for row in session.execute(_record_rows(list_style(session)),
                                   {"entity": entity, "ids": chunk}):
            existing[row.conflict_id] = row
    puts: list[tuple[Wanted, SideRef | None]] = []
    superseded: list[dict[str, Any]] = []
    for rid, (current, past) in sorted(plans.items()):
        keep = {w.conflict_id for w, _ in past} | ({current.conflict_id} if current else set())
        superseded += [{"b_id": row.conflict_id,
                        "b_by": current.conflict_id if current else None}
                       for row in existing.values() if row.record_id == rid
                       and row.conflict_id not in keep and row.status in LIVE
                       and row.resolved_event_id is None]
        for wanted, closer in past:
            old = existing.get(wanted.conflict_id)
            # Written again by the same settler too: a late event may have completed
            # the history its fields were read from. Kept when an earlier one settled it.
            if old is None or old.resolved_event_id is None or \
                    (closer.hlc, closer.event_id) <= (old.resolved_hlc, old.resolved_event_id):
                puts.append((wanted, closer))
        if current is not None:
            puts.append((current, None))
    if superseded:
        session.execute(conflicts.update().where(
            conflicts.c.conflict_id == sa.bindparam("b_id")).values(
            status=SUPERSEDED, superseded_by=sa.bindparam("b_by")), superseded)
    _put_all(session, puts, set(existing))


def settle_by(session: Session, scope: sa.ColumnElement[bool], closer: SideRef) -> None:
    """A local command on a record settles its current conflict (it was written on
    exactly the heads that conflict lists): open becomes resolved, auto and merged stay
    what they were, and each names the command as what settled it."""
    c = conflicts.c
    session.execute(conflicts.update().where(
        scope, c.status.in_(LIVE), c.resolved_event_id.is_(None)).values(
        status=sa.case((c.status == OPEN, RESOLVED), else_=c.status),
        resolved_event_id=closer.event_id, resolved_by=closer.user_id, resolved_hlc=closer.hlc))


def record_scope(entity: str, record_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(conflicts.c.entity == entity, conflicts.c.record_id == record_id,
                   conflicts.c.kind.in_(RECORD_KINDS))


def value_scope(entity: str, field: str, hashed: str) -> sa.ColumnElement[bool]:
    return sa.and_(conflicts.c.entity == entity, conflicts.c.field == field,
                   conflicts.c.value_hash == hashed)


def _put(session: Session, wanted: Wanted) -> None:
    exists = session.execute(sa.select(conflicts.c.conflict_id).where(
        conflicts.c.conflict_id == wanted.conflict_id)).first()
    _put_all(session, [(wanted, None)], {wanted.conflict_id} if exists else set())


def _put_all(session: Session, puts: list[tuple[Wanted, SideRef | None]],
             existing: set[str]) -> None:
    """Write these conflicts (inserted, or updated where `existing` has their id) with
    their sides: one statement for each kind of write."""
    if not puts:
        return
    new: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    for wanted, closer in puts:
        values = {
            "b_id": wanted.conflict_id, "entity": wanted.entity, "record_id": wanted.record_id,
            "kind": wanted.kind, "status": wanted.status, "field": wanted.field,
            "value_hash": wanted.value_hash, "winner_event_id": wanted.winner_event_id,
            "opened_hlc": max(s.hlc for s in wanted.sides),
            "resolved_event_id": closer.event_id if closer else None,
            "resolved_by": closer.user_id if closer else None,
            "resolved_hlc": closer.hlc if closer else None, "superseded_by": None,
            "disputed": _listed(wanted.disputed),
        }
        (old if wanted.conflict_id in existing else new).append(values)
    if new:
        columns: dict[str, Any] = {k: sa.bindparam(k) for k in new[0] if k != "b_id"}
        session.execute(conflicts.insert().values(conflict_id=sa.bindparam("b_id"),
                                                  **columns), new)
    if old:
        session.execute(conflicts.update().where(
            conflicts.c.conflict_id == sa.bindparam("b_id")).values(
            {k: sa.bindparam(k) for k in old[0] if k != "b_id"}), old)
    ids = [w.conflict_id for w, _ in puts]
    for chunk in chunks(ids):
        session.execute(conflict_sides.delete().where(conflict_sides.c.conflict_id.in_(chunk)))
    session.execute(conflict_sides.insert(), [
        {"conflict_id": w.conflict_id, "event_id": s.event_id, "record_id": s.record_id,
         "origin_node_id": s.origin_node_id, "fields": _side_fields(s)}
        for w, _ in puts for s in w.sides])


@cache
def _record_rows(style: str) -> sa.Select[Any]:
    c = conflicts.c
    return sa.select(c.conflict_id, c.record_id, c.status, c.resolved_event_id,
                     c.resolved_hlc).where(c.entity == sa.bindparam("entity"),
                                           one_of(c.record_id, "ids", style),
                                           c.kind.in_(RECORD_KINDS))


def _side_fields(side: SideRef) -> str | None:
    if side.fields is None:
        return None
    return canonical.dumps({"changed": list(side.fields), "lost": list(side.lost)})


def _listed(names: tuple[str, ...] | None) -> str | None:
    return None if names is None else canonical.dumps(list(names))


def _update(session: Session, conflict: str, **values: object) -> None:
    session.execute(conflicts.update().where(conflicts.c.conflict_id == conflict).values(**values))
