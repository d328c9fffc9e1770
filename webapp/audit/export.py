"""Export of the event log: the timeline's events (same filters, same order: newest
first) as JSON Lines, CSV rows or JSON pages, read in keyset batches so that memory
stays bounded however many events match.

Documents (params, states, vectors) go out as the canonical JSON text they are stored
and hashed in, passed through without being parsed, so any value the core can store
exports as stored, and a million events export in well under a minute. Only an event
that must change on the way is parsed: one of an older schema (upcast) or of an entity
with secret fields (a password hash becomes "(hidden)")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
from sqlalchemy.orm import Session

from . import canonical, store
from .context import AuditContext
from .entity import Registry
from .events import DOCUMENTS, ChangeEvent
from .hlc import format_hlc
from .ids import is_ulid
from .tables import change_events

BATCH = 500  # events per query: the only events held in memory at once
HIDDEN = "(hidden)"  # what a secret field (a password hash) exports as
CONTEXT = tuple(f.name for f in fields(AuditContext) if f.name != "user_id")
_STATES = ("params", "pre_state", "post_state")  # where secret fields appear
# The keys of an exported event, in order; "context" holds CONTEXT.
KEYS = ("event_id", "hlc", "hlc_text", "wall_time", "origin_node_id", "origin_node", "entity",
        "record_id", "op", "user_id", "user", "params", "pre_state", "post_state",
        "vv_before", "vv_after", "schema_version", "idempotency_key", "context", "meta",
        "hash", "prev_hash", "signature")
CSV_COLUMNS = tuple(c for k in KEYS for c in (CONTEXT if k == "context" else (k,)))
# OWASP "CSV injection": a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset(_FORMULA_START)

# A row is a change_events row (every column, in table order): read by position, as
# this runs a million times for a million events.
_AT = {name: i for i, name in enumerate(change_events.c.keys())}
_HEAD = itemgetter(*(_AT[n] for n in ("event_id", "hlc", "origin_node_id", "entity",
                                      "record_id", "op", "user_id")))
_TAIL = itemgetter(*(_AT[n] for n in ("schema_version", "idempotency_key", "hash",
                                      "prev_hash", "signature")))
_CONTEXT = itemgetter(*(_AT[n] for n in CONTEXT))
_DOCUMENTS = itemgetter(*(_AT[n] for n in DOCUMENTS))
_ENTITY, _VERSION, _USER = _AT["entity"], _AT["schema_version"], _AT["user_id"]


@dataclass(frozen=True)
class Names:
    """Readable names next to ids: node names (read once), usernames (per batch)."""
    nodes: Mapping[str, str]
    users: Callable[[list[str]], Mapping[str, str | None]]


class Exported(NamedTuple):  # a tuple: made once per event, so cheap to make
    """One event on its way out: `values` under KEYS (documents as orjson Fragments of
    their JSON text, so they are written as they are), and that text, in DOCUMENTS order."""
    values: dict[str, Any]
    documents: tuple[str, ...]


def batches(session: Session, filters: store.TimelineFilter, before: store.Cursor | None = None,
            size: int = BATCH) -> Iterator[list[Any]]:
    """Every matching event row, newest first, `size` at a time."""
    cursor = before
    while True:
        rows, cursor = store.timeline_rows(session, filters, cursor, size)
        if rows:
            yield rows
        if cursor is None:
            return


def exported(registry: Registry, rows: Sequence[Sequence[Any]], names: Names) -> list[Exported]:
    users = names.users(sorted({r[_USER] for r in rows if is_ulid(r[_USER])}))
    return [export_row(registry, r, names.nodes, users) for r in rows]


def export_row(registry: Registry, row: Sequence[Any], nodes: Mapping[str, str],
               users: Mapping[str, str | None]) -> Exported:
    """One change_events row as exported."""
    event_id, hlc, origin, entity, record_id, op, user_id = _HEAD(row)
    version, key, digest, prev_hash, signature = _TAIL(row)
    docs = _documents(registry, row)
    if entity in registry:  # the documents' schema: an older event's are upcast to it
        version = max(version, registry.get(entity).schema_version)
    params, pre, post, vv_before, vv_after, meta = map(orjson.Fragment, docs)
    text = format_hlc(hlc)
    values = {
        "event_id": event_id, "hlc": hlc, "hlc_text": text,
        "wall_time": text[:-5] if text[-6] == "Z" else None,  # beyond year 9999: ms only
        "origin_node_id": origin, "origin_node": nodes.get(origin), "entity": entity,
        "record_id": record_id, "op": op, "user_id": user_id, "user": users.get(user_id),
        "params": params, "pre_state": pre, "post_state": post, "vv_before": vv_before,
        "vv_after": vv_after, "schema_version": version, "idempotency_key": key,
        "context": dict(zip(CONTEXT, _CONTEXT(row), strict=True)), "meta": meta,
        "hash": digest, "prev_hash": prev_hash, "signature": signature,
    }
    return Exported(values, docs)


def to_json(item: Exported) -> bytes:
    try:
        return orjson.dumps(item.values)
    except orjson.JSONEncodeError:  # e.g. text orjson refuses: the standard library's way
        return json.dumps(as_dict(item)).encode()  # ASCII: \u escapes even a lone surrogate


def as_dict(item: Exported) -> dict[str, Any]:
    """The event as plain values (documents parsed)."""
    return {**item.values, **{name: canonical.loads(text)
                              for name, text in zip(DOCUMENTS, item.documents, strict=True)}}


def jsonl(items: Iterable[Exported]) -> bytes:
    return b"".join([to_json(item) + b"\n" for item in items])


def json_page(items: Iterable[Exported], **extra: Any) -> bytes:
    """{"events": [...], **extra}, the events spliced in as to_json wrote them."""
    return orjson.dumps({"events": [orjson.Fragment(to_json(i)) for i in items], **extra})


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_rows(items: Iterable[Exported]) -> str:
    return "".join([_csv_line(_cells(item)) for item in items])


def safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (OWASP's advice)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cells(item: Exported) -> list[Any]:
    """The CSV_COLUMNS of one event, in order."""
    v = item.values
    params, pre, post, vv_before, vv_after, meta = item.documents
    return [v["event_id"], v["hlc"], v["hlc_text"], v["wall_time"], v["origin_node_id"],
            v["origin_node"], v["entity"], v["record_id"], v["op"], v["user_id"], v["user"],
            params, pre, post, vv_before, vv_after, v["schema_version"], v["idempotency_key"],
            *v["context"].values(), meta, v["hash"], v["prev_hash"], v["signature"]]


def _csv_line(cells: Iterable[Any]) -> str:
    """One RFC 4180 line, every cell quoted (as csv.writer's QUOTE_ALL writes it), every
    cell safe. Written here because csv.writer spends ~20 µs a row on these JSON-heavy
    cells, char by char, as long as the rest of an export together; this takes ~5."""
    texts = ["" if c is None else c if type(c) is str else str(c) for c in cells]
    return '"' + '","'.join([("'" + t if t[:1] in _FORMULA_CHARS else t).replace('"', '""')
                             for t in texts]) + '"\r\n'


def _documents(registry: Registry, row: Sequence[Any]) -> tuple[str, ...]:
    """The stored texts, unless the event needs upcasting or holds secrets."""
    name = row[_ENTITY]
    entity = registry.get(name) if name in registry else None
    if entity is None or (row[_VERSION] >= entity.schema_version and not entity.secret_fields):
        return tuple([text or "null" for text in _DOCUMENTS(row)])
    event = store.upcast(registry, ChangeEvent.from_row(dict(zip(_AT, row, strict=True))))
    docs = {name: getattr(event, name) for name in DOCUMENTS}
    for name in _STATES:
        doc = docs[name]
        hidden = [f for f in entity.secret_fields if doc and doc.get(f) is not None]
        if hidden:
            docs[name] = {**doc, **dict.fromkeys(hidden, HIDDEN)}
    return tuple(canonical.dumps(docs[name]) for name in DOCUMENTS)
