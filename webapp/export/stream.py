"""The text of an export, chunk by chunk (one chunk per batch of events), and one page
of events as /api/events serves it; both over the core's keyset reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from ..audit import export, store
from ..audit.lookups import node_names
from ..audit.records import titles
from ..domain import registry, users
from ..timeline.filters import TimelineQuery

# format -> (media type, file extension)
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl")}


USERS_KEPT = 10_000  # usernames remembered across batches (then forgotten, not grown)


def names(session: Session) -> export.Names:
    """Node names, and usernames looked up once per export, not once per batch."""
    known: dict[str, str | None] = {}

    def usernames(ids: list[str]) -> dict[str, str | None]:
        wanted = [i for i in ids if i not in known]
        if wanted:
            if len(known) + len(wanted) > USERS_KEPT:
                known.clear()
            found = titles(session, users, wanted)
            known.update({i: found.get(i) for i in wanted})
        return known

    return export.Names(node_names(session), usernames)


def chunks(session: Session, query: TimelineQuery, fmt: str,
           progress: Callable[[int], None] | None = None,
           batch: int = export.BATCH) -> Iterator[bytes]:
    """UTF-8 CSV (its header first) or JSON Lines of every event the query matches, one
    chunk per `batch` events. `progress` hears how many events each chunk held."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use csv or jsonl")
    if fmt == "csv":
        yield export.csv_header().encode()
    if query.nothing:
        return
    known = names(session)
    for rows in export.batches(session, query.filters, query.before, batch):
        items = export.exported(registry, rows, known)
        yield (export.csv_rows(items).encode(errors="backslashreplace") if fmt == "csv"
               else export.jsonl(items))
        if progress is not None:
            progress(len(rows))


def page(session: Session, query: TimelineQuery,
         limit: int) -> tuple[list[export.Exported], store.Cursor | None]:
    """One keyset page of exported events and the cursor of the next (older) page."""
    if query.nothing:
        return [], None
    rows, cursor = store.timeline_rows(session, query.filters, query.before, limit)
    return export.exported(registry, rows, names(session)), cursor
