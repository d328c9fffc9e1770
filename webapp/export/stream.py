"""The text of an export, chunk by chunk (one chunk per batch of events), and one page
of events as /api/events serves it; both over the core's keyset reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from ..audit import export, store
from ..audit.lookups import node_names
from ..audit.records import titles
from ..domain import registry, users
from ..timeline.filters import TimelineQuery

# format -> (media type, file extension)
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl")}


def names(session: Session) -> export.Names:
    return export.Names(node_names(session), lambda ids: titles(session, users, ids))


def chunks(session: Session, query: TimelineQuery, fmt: str,
           progress: Callable[[int], None] | None = None,
           batch: int = export.BATCH) -> Iterator[str]:
    """CSV (its header first) or JSON Lines of every event the query matches, one chunk
    per `batch` events. `progress` hears how many events each chunk held."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use csv or jsonl")
    if fmt == "csv":
        yield export.csv_header()
    if query.nothing:
        return
    known = names(session)
    for events in export.batches(session, registry, query.filters, query.before, batch):
        docs = export.documents(registry, events, known)
        yield export.csv_rows(docs) if fmt == "csv" else export.jsonl(docs)
        if progress is not None:
            progress(len(events))


def page(session: Session, query: TimelineQuery,
         limit: int) -> tuple[list[dict[str, Any]], store.Cursor | None]:
    """One keyset page of event documents and the cursor of the next (older) page."""
    if query.nothing:
        return [], None
    found = store.timeline(session, query.filters, query.before, limit, registry)
    return export.documents(registry, found.events, names(session)), found.next_cursor
