"""Reads of conflicts for the conflicts page and the timeline badges."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical, vv
from ..entity import Registry
from ..events import ChangeEvent
from ..idlists import is_token, list_style, one_of
from ..store import upcast
from ..tables import change_events as ev
from ..transaction import chunks
from .models import AUTO, MERGED, OPEN, RESOLVED, SUPERSEDED, UNIQUE_COLLISION, Conflict, Side
from .tables import conflict_sides as sides_t
from .tables import conflicts as conflicts_t

STATUSES = (OPEN, RESOLVED, AUTO, MERGED, SUPERSEDED)  # most pressing first


def list_conflicts(session: Session, status: str | None = OPEN, entity: str | None = None,
                   node_id: str | None = None, limit: int = 100,
                   registry: Registry | None = None,
                   record_id: str | None = None) -> list[Conflict]:
    """Newest first. status: one of STATUSES, or None for open and resolved ones;
    node_id: conflicts with a side from that origin node; record_id: conflicts of that
    record (with entity). No ancestors (see get_conflict)."""
    query = sa.select(conflicts_t)
    if record_id:
        query = query.where(conflicts_t.c.record_id == record_id)
    if status is None:
        query = query.where(conflicts_t.c.status.in_((OPEN, RESOLVED)))
    else:
        query = query.where(conflicts_t.c.status == status)
    if entity:
        query = query.where(conflicts_t.c.entity == entity)
    if node_id:
        query = query.where(conflicts_t.c.conflict_id.in_(
            sa.select(sides_t.c.conflict_id).where(sides_t.c.origin_node_id == node_id)))
    query = query.order_by(conflicts_t.c.opened_hlc.desc(), conflicts_t.c.conflict_id.desc())
    rows = session.execute(query.limit(max(1, min(int(limit), 1000)))).all()
    return _build(session, rows, registry, ancestors=False)


def get_conflict(session: Session, conflict_id: str,
                 registry: Registry | None = None) -> Conflict | None:
    """One conflict with its sides and, when this node holds it, their common ancestor
    (the version whose vector is the meet of the sides' vectors)."""
    if not isinstance(conflict_id, str) or len(conflict_id) > 64:
        return None
    rows = session.execute(sa.select(conflicts_t)
                           .where(conflicts_t.c.conflict_id == conflict_id)).all()
    found = _build(session, rows, registry, ancestors=True)
    return found[0] if found else None


def open_conflict_ids_for_events(session: Session, event_ids: Iterable[str]) -> dict[str, str]:
    """event_id -> id of the open conflict it is a side of (for timeline badges)."""
    return {e: m.conflict_id for e, m in conflict_marks(session, event_ids).items()
            if m.status == OPEN}


@dataclass(frozen=True)
class Mark:
    conflict_id: str
    status: str
    lost: bool  # a side whose value of a disputed field is not the one the record took
    fields: tuple[str, ...] = ()  # what this side changed (merged in, for a clean merge)
    disputed: tuple[str, ...] = ()


@functools.cache
def _marks(style: str) -> sa.Select[Any]:
    """Built once: every timeline page reads the marks of its events (its 50 ids as one
    list parameter where the database takes one: expanding 50 costs more than the query)."""
    return marks_select(one_of(sides_t.c.event_id, "ids", style))


# What a mark is read from, in this order (audit/labels.py reads them along with titles).
MARK_COLUMNS = (sides_t.c.event_id, sides_t.c.fields, conflicts_t.c.conflict_id,
                conflicts_t.c.status, conflicts_t.c.winner_event_id, conflicts_t.c.disputed)


def is_a_side(event_id: sa.ColumnElement[str]) -> sa.Exists:
    """Whether the event is a side of a conflict, as a correlated EXISTS: read beside a
    page's events, so that only those events' marks are read."""
    return sa.exists().where(sides_t.c.event_id == event_id)


def marks_select(where: sa.ColumnElement[bool],
                 columns: Sequence[Any] = MARK_COLUMNS) -> sa.Select[Any]:
    """`columns` (of conflict_sides and conflicts) of the sides `where` picks."""
    return sa.select(*columns).join(
        conflicts_t, conflicts_t.c.conflict_id == sides_t.c.conflict_id).where(where)


def conflict_marks(session: Session, event_ids: Iterable[str]) -> dict[str, Mark]:
    """event_id -> the most pressing conflict it took part in (open first), whatever the
    status, so timelines can mark lost and conflicting events."""
    marks: dict[str, Mark] = {}
    query = _marks(list_style(session))
    for chunk in chunks(e for e in event_ids if is_token(e)):
        for row in session.execute(query, {"ids": chunk}):
            keep_mark(marks, *row)
    return marks


_RANK = {s: i for i, s in enumerate(STATUSES)}


def keep_mark(marks: dict[str, Mark], event_id: str, fields_text: str | None,
              conflict_id: str, status: str, winner_event_id: str,
              disputed: str | None) -> None:
    """Add to `marks` the mark one row of MARK_COLUMNS says, unless the event already has
    one more pressing."""
    fields = _side_fields(fields_text)
    # Before field merges, and for update against delete, every other side lost.
    lost = bool(fields[1]) if fields is not None else event_id != winner_event_id
    mark = Mark(conflict_id, status, lost, fields[0] if fields else (), _names(disputed) or ())
    old = marks.get(event_id)
    if old is None or _RANK.get(mark.status, 9) < _RANK.get(old.status, 9):
        marks[event_id] = mark


def _build(session: Session, rows: Sequence[Any], registry: Registry | None,
           ancestors: bool) -> list[Conflict]:
    ids = [r.conflict_id for r in rows]
    side_rows: dict[str, dict[str, Any]] = defaultdict(dict)
    if ids:
        for row in session.execute(sa.select(sides_t).where(sides_t.c.conflict_id.in_(ids))):
            side_rows[row.conflict_id][row.event_id] = _side_fields(row.fields)
    events = _events(session, [e for evs in side_rows.values() for e in evs], registry)
    out = []
    for row in rows:
        sides = sorted((_side(events[e], fields) for e, fields in side_rows[row.conflict_id].items()
                        if e in events), key=lambda s: (s.hlc, s.origin_node_id, s.event_id))
        doc = dict(row._mapping)
        doc.pop("value_hash")
        doc["disputed"] = _names(doc["disputed"])
        value = None
        if row.kind == UNIQUE_COLLISION and sides and sides[0].state is not None:
            value = sides[0].state.get(row.field)
        ancestor = None
        if ancestors and row.kind != UNIQUE_COLLISION and sides:
            ancestor = _ancestor(session, row.entity, row.record_id, sides, registry)
        mine = [s.vv for s in sides if s.record_id == row.record_id]
        version = vv.version_of(functools.reduce(vv.merge, mine, {}))
        out.append(Conflict(**doc, sides=sides, ancestor=ancestor, value=value, version=version))
    return out


def _events(session: Session, ids: list[str],
            registry: Registry | None) -> dict[str, ChangeEvent]:
    found = {}
    for chunk in chunks(ids):
        for row in session.execute(sa.select(ev).where(ev.c.event_id.in_(chunk))):
            event = ChangeEvent.from_row(row._mapping)
            found[event.event_id] = upcast(registry, event) if registry else event
    return found


def _side(event: ChangeEvent, fields: tuple[tuple[str, ...], tuple[str, ...]] | None) -> Side:
    changed, lost = fields or ((), ())
    return Side(event.event_id, event.record_id, event.origin_node_id, event.hlc,
                event.post_state, event.vv_after, event.user_id, event.op, changed, lost)


def _side_fields(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(changed, lost) fields of a side, as finalize stored them; None before merges."""
    if text is None:
        return None
    doc = canonical.loads(text)
    return tuple(doc["changed"]), tuple(doc["lost"])


def _names(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(canonical.loads(text))


def _ancestor(session: Session, entity: str, record_id: str, sides: list[Side],
              registry: Registry | None) -> dict[str, Any] | None:
    nodes = set.intersection(*(set(s.vv) for s in sides))
    meet = {n: min(s.vv[n] for s in sides) for n in sorted(nodes)}
    if not meet:
        return None
    query = sa.select(ev).where(ev.c.entity == entity, ev.c.record_id == record_id,
                                ev.c.vv_after == canonical.dumps(meet))
    row = session.execute(query.limit(1)).first()
    if row is None:
        return None
    event = ChangeEvent.from_row(row._mapping)
    return (upcast(registry, event) if registry else event).post_state
