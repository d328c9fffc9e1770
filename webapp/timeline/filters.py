"""Timeline filters from a URL's query string: validated, resolved to indexed columns,
and kept as the clean query-string values that links and the form carry on."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from ..audit.events import Op
from ..audit.hlc import MAX_PHYSICAL
from ..audit.ids import is_ulid
from ..audit.store import Cursor, TimelineFilter, decode_cursor

FIELDS = ("entity", "record", "user", "node", "op", "from", "to")
MAX_LEN = 100
# Precision of a typed time, so that an inclusive "to" covers the whole day or minute.
_PRECISION = [(re.compile(r"^\d{4}-\d{2}-\d{2}$"), timedelta(days=1)),
              (re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$"),
               timedelta(minutes=1)),
              (re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?$"),
               timedelta(seconds=1)),
              (re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d{1,6}(Z|[+-]\d{2}:\d{2})?$"),
               timedelta(milliseconds=1))]


_LATEST = datetime.fromtimestamp(MAX_PHYSICAL // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class BadFilterError(ValueError):
    """A filter value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Resolvers:
    """Lookups the parser needs, passed in so it stays free of sessions and Flask."""
    user_id: Callable[[str], str | None]  # username -> user record id
    node_id: Callable[[str], str | None]  # node name -> node id
    record_entity: Callable[[str], str | None]  # record id -> entity with events for it


@dataclass(frozen=True)
class TimelineQuery:
    filters: TimelineFilter
    before: Cursor | None
    args: dict[str, str] = field(default_factory=dict)  # non-empty filter values, for URLs
    nothing: bool = False  # the filters can match no event (e.g. a record with no events)


def parse_time(text: str, end: bool, zone: tzinfo = UTC) -> int:
    """Wall milliseconds of a date or datetime (in `zone`, the reader's, unless it says
    otherwise). An `end` time is inclusive to its precision: "2024-05-01" ends at
    23:59:59.999."""
    step = next((step for pattern, step in _PRECISION if pattern.match(text)), None)
    if step is None:
        raise ValueError(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    ms = int(moment.timestamp() * 1000)
    if ms < 0:
        raise ValueError(text)
    if ms > MAX_PHYSICAL:
        raise OutOfRangeError(text)
    if not end:
        return ms
    # Wall-clock arithmetic: a local day that has a DST change ends at 23:59 too; the
    # last day the clock can stamp ends where the clock does.
    last = moment + (step - timedelta(milliseconds=1))
    return min(int(last.timestamp() * 1000), MAX_PHYSICAL)


class OutOfRangeError(ValueError):
    """A well-formed time beyond the clock's range (events are stamped up to year 6429)."""


def parse(args: Mapping[str, str], entities: Collection[str],
          resolve: Resolvers | None = None, zone: tzinfo = UTC) -> TimelineQuery:
    """Raises BadFilterError for any value that is malformed or names nothing known.
    Typed times without an offset are read in `zone` (the reader's time zone)."""
    given = {k: args.get(k, "").strip() for k in (*FIELDS, "before")}
    given = {k: v for k, v in given.items() if v}
    for key, value in given.items():
        if len(value) > MAX_LEN and key != "before":
            raise BadFilterError(f"the {key} filter is too long")
    entity, op = given.get("entity"), given.get("op")
    if entity is not None and entity not in entities:
        raise BadFilterError(f"unknown entity {entity[:40]!r}")
    if op is not None and op not in Op.ALL:
        raise BadFilterError(f"unknown operation {op[:40]!r}; use one of {', '.join(Op.ALL)}")
    since = _time(given, "from", end=False, zone=zone)
    until = _time(given, "to", end=True, zone=zone)
    if since is not None and until is not None and since > until:
        raise BadFilterError("the time range ends before it starts")
    try:
        before = decode_cursor(given.pop("before", None))
    except ValueError as exc:
        raise BadFilterError(
            f"the page cursor is not valid ({exc}); start again from the newest") from None
    record = given.get("record")
    if record is not None:
        if not is_ulid(record.upper()):
            raise BadFilterError("a record filter is a record id (26 characters)")
        record = given["record"] = record.upper()
    user_id = given.get("user")
    if user_id is not None and resolve is not None:
        user_id = resolve.user_id(user_id) or user_id  # a username, or an id as stored
    node_id = _node(given.get("node"), resolve)
    nothing = False
    if record is not None and entity is None:
        # ix_events_record starts with entity: find it, so the query stays on the index.
        entity = resolve.record_entity(record) if resolve else None
        nothing = entity is None
    filters = TimelineFilter(entity=entity, record_id=record, user_id=user_id,
                             origin_node_id=node_id, op=op, since_ms=since, until_ms=until)
    return TimelineQuery(filters, before, given, nothing)


def _time(given: dict[str, str], key: str, end: bool, zone: tzinfo) -> int | None:
    if key not in given:
        return None
    try:
        return parse_time(given[key], end, zone)
    except OutOfRangeError:
        raise BadFilterError(
            f"'{key}' is beyond the latest time an event can carry ({_LATEST})") from None
    except (ValueError, OverflowError):
        raise BadFilterError(
            f"'{key}' is not a date or time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def _node(value: str | None, resolve: Resolvers | None) -> str | None:
    if value is None:
        return None
    if is_ulid(value.upper()):
        return value.upper()
    found = resolve.node_id(value) if resolve else None
    if found is None:
        raise BadFilterError(f"unknown node {value[:40]!r}")
    return found
