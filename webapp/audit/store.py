"""Reads of the event log: for peers (after a seq), for a record, and the global
timeline in keyset pages ordered by (hlc, origin_node_id, event_id)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .compaction.points import compacted_through
from .entity import Registry
from .errors import UpcastError
from .events import ChangeEvent
from .hlc import MAX_LOGICAL, pack, parse_hlc
from .ids import is_ulid
from .tables import change_events as ev

Cursor = tuple[int, str, str]  # (hlc, origin_node_id, event_id) of the last event shown


def find_by_key(session: Session, key: str) -> ChangeEvent | None:
    # A key is unique per origin: a replica may hold "the same" command from two nodes.
    query = sa.select(ev).where(ev.c.idempotency_key == key).order_by(ev.c.seq)
    row = session.execute(query).first()
    return ChangeEvent.from_row(row._mapping) if row else None


def get_event(session: Session, event_id: str) -> ChangeEvent | None:
    row = session.execute(sa.select(ev).where(ev.c.event_id == event_id)).first()
    return ChangeEvent.from_row(row._mapping) if row else None


def events_after(session: Session, seq: int, limit: int = 500) -> list[ChangeEvent]:
    """This node's log after `seq`, in seq order: what a peer pulls."""
    query = sa.select(ev).where(ev.c.seq > seq).order_by(ev.c.seq).limit(limit)
    return [ChangeEvent.from_row(r._mapping) for r in session.execute(query)]


def last_seq(session: Session) -> int:
    """The log's last seq, also when compaction removed the events at its end."""
    found = int(session.execute(sa.select(sa.func.coalesce(sa.func.max(ev.c.seq), 0)))
                .scalar_one())
    return max(found, compacted_through(session))


def last_seq_not_from(session: Session, origin: str) -> int:
    """The last seq of this log's events that `origin` did not write (0: none): what a
    pull tells that peer it still has to fetch before it has everything this node may
    send it (webapp/sync/acks.py). Read from the top of the log down."""
    found = session.execute(sa.select(ev.c.seq).where(ev.c.origin_node_id != origin)
                            .order_by(ev.c.seq.desc()).limit(1)).scalar()
    return int(found or 0)


@dataclass(frozen=True)
class TimelineFilter:
    entity: str | None = None
    record_id: str | None = None
    user_id: str | None = None
    origin_node_id: str | None = None
    op: str | None = None
    since_ms: int | None = None  # inclusive, wall milliseconds
    until_ms: int | None = None  # inclusive


# Equality filters, most selective first. SQLite has no column statistics unless ANALYZE
# ran, so it may walk a broad index (every `updated` event) rather than a narrow one (one
# user's events): there every other equality is wrapped (`col || ''`) so that only the
# narrowest filter's index is usable. PostgreSQL and MariaDB estimate rows themselves.
_NARROWEST_FIRST = ("record_id", "user_id", "origin_node_id", "op", "entity")


def _equalities(names: tuple[str, ...], dialect: str,
                value: Callable[[str], Any]) -> list[sa.ColumnElement[bool]]:
    """`names`: the given equality filters, in _NARROWEST_FIRST order; `value(name)` is
    what each compares with (a value, or a bound parameter of a statement built once)."""
    lead = names[0] if names else None
    out = []
    for name in names:
        column = ev.c[name]
        usable = dialect != "sqlite" or name == lead or (name, lead) == ("entity", "record_id")
        out.append((column if usable else column + "") == value(name))
    return out


def _given(filters: TimelineFilter) -> tuple[str, ...]:
    return tuple(n for n in _NARROWEST_FIRST if getattr(filters, n) is not None)


def _bounds(filters: TimelineFilter) -> dict[str, int]:
    """The HLC range the time filters give (inclusive), by bound parameter name."""
    out = {}
    if filters.since_ms is not None:
        out["since_hlc"] = pack(max(filters.since_ms, 0), 0)
    if filters.until_ms is not None:
        out["until_hlc"] = pack(max(filters.until_ms, 0), MAX_LOGICAL)
    return out


def _matching(filters: TimelineFilter, dialect: str) -> list[sa.ColumnElement[bool]]:
    where = _equalities(_given(filters), dialect, lambda name: getattr(filters, name))
    bounds = _bounds(filters)
    if "since_hlc" in bounds:
        where.append(ev.c.hlc >= bounds["since_hlc"])
    if "until_hlc" in bounds:
        where.append(ev.c.hlc <= bounds["until_hlc"])
    return where


def count(session: Session, filters: TimelineFilter = TimelineFilter()) -> int:
    """How many events match (for an export's progress; the timeline never counts)."""
    query = sa.select(sa.func.count()).select_from(ev).where(
        *_matching(filters, session.get_bind().dialect.name))
    return int(session.execute(query).scalar_one())


@dataclass(frozen=True)
class TimelinePage:
    events: list[ChangeEvent]
    next_cursor: Cursor | None  # pass as `before` for the next (older) page


def timeline(session: Session, filters: TimelineFilter = TimelineFilter(),
             before: Cursor | None = None, limit: int = 50,
             registry: Registry | None = None) -> TimelinePage:
    """Newest first. Keyset pagination: no OFFSET and no count, so any page is one
    index range scan however long the log is."""
    rows, next_cursor = timeline_rows(session, filters, before, limit)
    events = [ChangeEvent.from_row(r._mapping) for r in rows]
    if registry is not None:
        events = [upcast(registry, e) for e in events]
    return TimelinePage(events, next_cursor)


# Given a page's columns (page.c): the columns to read beside each of its events, and
# the tables to outer-join for them (each on a condition matching at most one row).
BesideColumns = Callable[[Any], tuple[tuple[sa.ColumnElement[Any], ...],
                                      tuple[tuple[sa.Table, sa.ColumnElement[bool]], ...]]]


@dataclass(frozen=True, eq=False)
class Beside:
    """What a caller reads beside each event of a page, in the same statement: columns of
    outer-joined tables (a join matching more than one row would repeat the event) or
    correlated subqueries, each labelled `beside_<name>`. They are joined to the page
    after its LIMIT, so the page's own plan is unchanged and they are read for its rows
    only. `event_mapping` leaves them out. Compared and hashed by identity (the statement
    is built once per Beside): make each one a module's constant."""
    columns: BesideColumns


EVENT_COLUMNS = tuple(ev.c.keys())


def event_mapping(row: sa.Row[Any]) -> dict[str, Any]:
    """The event's own columns of a row read with a Beside (for ChangeEvent.from_row)."""
    mapping = row._mapping
    return {name: mapping[name] for name in EVENT_COLUMNS}


def timeline_rows(session: Session, filters: TimelineFilter, before: Cursor | None,
                  limit: int, beside: Beside | None = None
                  ) -> tuple[list[sa.Row[Any]], Cursor | None]:
    """The rows of a timeline page as stored (every column of change_events, documents
    still JSON text, not upcast), for readers that pass them on as they are (exports),
    with `beside`'s columns after them; and the next page's cursor."""
    names, bounds = _given(filters), _bounds(filters)
    query = _page(names, tuple(bounds), before is not None, session.get_bind().dialect.name,
                  beside)
    values: dict[str, Any] = {f"is_{n}": getattr(filters, n) for n in names}
    values.update(bounds, limit=limit + 1)
    if before is not None:
        values.update(before_hlc=before[0], before_origin=before[1], before_id=before[2])
    rows = session.execute(query, values).all()
    if len(rows) <= limit or limit < 1:
        return list(rows[:limit]), None
    last = rows[limit - 1]
    return list(rows[:limit]), (int(last.hlc), str(last.origin_node_id), str(last.event_id))


@cache
def _page(names: tuple[str, ...], bounds: tuple[str, ...], cursor: bool,
          dialect: str, beside: Beside | None) -> sa.Select[Any]:
    """A timeline page's statement for one shape of filters (which are given, whether a
    cursor is), values bound: built once per shape, as building it costs more CPU than
    running it."""
    query = sa.select(ev).where(*_equalities(names, dialect,
                                             lambda name: sa.bindparam(f"is_{name}")))
    if "since_hlc" in bounds:
        query = query.where(ev.c.hlc >= sa.bindparam("since_hlc"))
    if "until_hlc" in bounds:
        query = query.where(ev.c.hlc <= sa.bindparam("until_hlc"))
    if cursor:
        hlc: sa.BindParameter[int] = sa.bindparam("before_hlc")
        origin: sa.BindParameter[str] = sa.bindparam("before_origin")
        event_id: sa.BindParameter[str] = sa.bindparam("before_id")
        # The leading `hlc <= ?` gives every database a plain range on the index.
        query = query.where(ev.c.hlc <= hlc, sa.or_(
            ev.c.hlc < hlc,
            sa.and_(ev.c.hlc == hlc, sa.or_(
                ev.c.origin_node_id < origin,
                sa.and_(ev.c.origin_node_id == origin, ev.c.event_id < event_id)))))
    query = query.order_by(ev.c.hlc.desc(), ev.c.origin_node_id.desc(), ev.c.event_id.desc())
    query = query.limit(sa.bindparam("limit"))
    if beside is None:
        return query
    page = query.subquery("page")
    columns, joins = beside.columns(page.c)
    joined: sa.FromClause = page
    for table, on in joins:
        joined = joined.outerjoin(table, on)
    return (sa.select(page, *columns).select_from(joined)
            .order_by(page.c.hlc.desc(), page.c.origin_node_id.desc(), page.c.event_id.desc()))


def record_events(session: Session, entity: str, record_id: str, limit: int = 200,
                  before: Cursor | None = None, registry: Registry | None = None) -> TimelinePage:
    return timeline(session, TimelineFilter(entity=entity, record_id=record_id), before, limit,
                    registry)


def record_neighbours(session: Session, event: ChangeEvent) -> tuple[str | None, str | None]:
    """The ids of the previous and the next change of the event's record, in timeline
    order (None at either end): two one-row index range scans."""
    older = timeline(session, TimelineFilter(entity=event.entity, record_id=event.record_id),
                     event.order_key, limit=1).events
    hlc, origin, event_id = event.order_key
    newer = session.execute(
        sa.select(ev.c.event_id)
        .where(ev.c.entity == event.entity, ev.c.record_id == event.record_id,
               ev.c.hlc >= hlc, sa.or_(
                   ev.c.hlc > hlc,
                   sa.and_(ev.c.hlc == hlc, sa.or_(
                       ev.c.origin_node_id > origin,
                       sa.and_(ev.c.origin_node_id == origin, ev.c.event_id > event_id)))))
        .order_by(ev.c.hlc, ev.c.origin_node_id, ev.c.event_id).limit(1)).scalar()
    return (older[0].event_id if older else None), (str(newer) if newer else None)


def encode_cursor(cursor: Cursor) -> str:
    return f"{cursor[0]}.{cursor[1]}.{cursor[2]}"


def decode_cursor(text: str | None) -> Cursor | None:
    """Parse a cursor from a URL; None for a missing one, ValueError for a bad one."""
    if not text:
        return None
    parts = text.split(".")
    if len(parts) != 3 or not all(is_ulid(p) for p in parts[1:]):
        raise ValueError("not a timeline cursor")
    return parse_hlc(parts[0]), parts[1], parts[2]  # ASCII digits in the 64-bit range


def upcast(registry: Registry, event: ChangeEvent) -> ChangeEvent:
    """Bring an old event's documents up to its entity's current schema version."""
    if event.entity not in registry:
        return event
    entity = registry.get(event.entity)
    if event.schema_version >= entity.schema_version:
        return event
    try:
        return replace(
            event,
            params=entity.upcast(event.params, event.schema_version) or {},
            pre_state=entity.upcast(event.pre_state, event.schema_version),
            post_state=entity.upcast(event.post_state, event.schema_version),
            schema_version=entity.schema_version,
        )
    except UpcastError as exc:
        raise exc.on(f" on event {event.event_id}") from exc.cause
