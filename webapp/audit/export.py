"""Export of the event log: the timeline's events (same filters, same order: newest
first) as documents, CSV rows or JSON Lines, read in keyset batches so that memory stays
bounded however many events match. Documents go out in the canonical JSON the events
are stored and hashed in, so any value the core can store exports as stored."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from . import canonical, store
from .context import AuditContext
from .entity import Registry
from .events import ChangeEvent
from .hlc import format_hlc, to_datetime
from .ids import is_ulid

BATCH = 500  # events per query: the only events held in memory at once
HIDDEN = "(hidden)"  # what a secret field (a password hash) exports as
CONTEXT = tuple(f.name for f in fields(AuditContext) if f.name != "user_id")
_DOCUMENTS = ("params", "pre_state", "post_state", "vv_before", "vv_after", "meta")
CSV_COLUMNS = ("event_id", "hlc", "hlc_text", "wall_time", "origin_node_id", "origin_node",
               "entity", "record_id", "op", "user_id", "user", "params", "pre_state",
               "post_state", "vv_before", "vv_after", "schema_version", "idempotency_key",
               *CONTEXT, "meta", "hash", "prev_hash", "signature")
# OWASP "CSV injection": a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Names:
    """Readable names next to ids: node names (read once), usernames (per batch)."""
    nodes: Mapping[str, str]
    users: Callable[[list[str]], Mapping[str, str]]


def batches(session: Session, registry: Registry, filters: store.TimelineFilter,
            before: store.Cursor | None = None, size: int = BATCH) -> Iterator[list[ChangeEvent]]:
    """Every matching event, newest first, `size` at a time, upcast to current schemas."""
    cursor = before
    while True:
        page = store.timeline(session, filters, cursor, size, registry)
        if page.events:
            yield page.events
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def documents(registry: Registry, events: list[ChangeEvent],
              names: Names) -> list[dict[str, Any]]:
    users = names.users(sorted({e.user_id for e in events if e.user_id and is_ulid(e.user_id)}))
    return [document(registry, e, names.nodes, users) for e in events]


def document(registry: Registry, event: ChangeEvent, nodes: Mapping[str, str],
             users: Mapping[str, str]) -> dict[str, Any]:
    """One event as exported: the same keys in JSON Lines and /api/events."""
    secret = registry.get(event.entity).secret_fields if event.entity in registry else ()
    return {
        "event_id": event.event_id, "hlc": event.hlc, "hlc_text": format_hlc(event.hlc),
        "wall_time": _wall_time(event.hlc),
        "origin_node_id": event.origin_node_id, "origin_node": nodes.get(event.origin_node_id),
        "entity": event.entity, "record_id": event.record_id, "op": event.op,
        "user_id": event.user_id, "user": users.get(event.user_id or ""),
        "params": _redact(event.params, secret), "pre_state": _redact(event.pre_state, secret),
        "post_state": _redact(event.post_state, secret),
        "vv_before": event.vv_before, "vv_after": event.vv_after,
        "schema_version": event.schema_version, "idempotency_key": event.idempotency_key,
        "context": {name: getattr(event, name) for name in CONTEXT}, "meta": event.meta,
        "hash": event.hash, "prev_hash": event.prev_hash, "signature": event.signature,
    }


def jsonl(docs: Iterable[dict[str, Any]]) -> str:
    return "".join(canonical.dumps(doc) + "\n" for doc in docs)


def csv_header() -> str:
    return _csv([list(CSV_COLUMNS)])


def csv_rows(docs: Iterable[dict[str, Any]]) -> str:
    return _csv([[_cell(name, doc) for name in CSV_COLUMNS] for doc in docs])


def safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (OWASP's advice; the csv module quotes what needs quoting)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell(name: str, doc: Mapping[str, Any]) -> str:
    value = doc["context"][name] if name in CONTEXT else doc[name]
    if value is None:
        return ""
    if name in _DOCUMENTS:
        return safe_cell(canonical.dumps(value))
    return safe_cell(str(value))


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _redact(doc: dict[str, Any] | None, secret: Iterable[str]) -> dict[str, Any] | None:
    hidden = [name for name in secret if doc and doc.get(name) is not None]
    return {**doc, **dict.fromkeys(hidden, HIDDEN)} if doc and hidden else doc


def _wall_time(hlc: int) -> str | None:
    try:
        return to_datetime(hlc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):  # beyond year 9999: hlc_text still says
        return None
