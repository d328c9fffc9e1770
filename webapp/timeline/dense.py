"""A dense timeline row as plain text, computed once in Python (the `dense_row` macro
prints each value), and a page of them rendered: each row's HTML is remembered per
process (webapp/rendered.py), since an event never changes; rendering 50 rows, with
their diffs summed up, cost more than every query under the page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from ..audit import store
from ..audit.events import ChangeEvent
from ..audit.hlc import to_datetime
from ..domain import registry
from ..rendered import Fragment, Fragments
from . import rows as event_rows
from .rows import EventRow, Shown


@dataclass(frozen=True, slots=True)
class DenseRow:
    row: EventRow  # for the rare badges (conflict marks, resolves, revert)
    event_id: str
    op: str
    op_label: str  # "access" for a system entity's event
    moment: str  # ISO 8601 UTC, for <time datetime>
    local: str  # as the reader reads it, in their zone
    user: str
    node: str
    entity_label: str
    title: str
    record_url: str
    fields: str  # the changed fields' labels, or "—"
    summary: str
    more_badges: bool  # a conflict mark, or a resolves/revert badge to show


@dataclass(frozen=True)
class Urls:
    """The URL prefixes of an event's and a record's page, built once per page (url_for
    per row is the costly part of a row). Record and event ids are ULIDs, safe in a path."""
    event: str
    record: str

    @classmethod
    def here(cls) -> Urls:
        return cls(url_for("timeline.event", event_id="_")[:-1],
                   url_for("records.show", entity="_", record_id="_")[:-3])


def when_texts(hlc: int, zone: tzinfo) -> tuple[str, str]:
    """An HLC's moment as <time datetime> takes it (ISO 8601, UTC) and as the reader
    reads it in their zone: what the `when` macro (_partials/time.html) prints."""
    moment = to_datetime(hlc)
    local = moment.astimezone(zone)
    return (moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            f"{local.strftime('%Y-%m-%d %H:%M:%S')} {local.tzname()}")


def dense_rows(rows: Sequence[EventRow], zone: tzinfo, urls: Urls) -> list[DenseRow]:
    out = []
    for row in rows:
        e = row.event
        system = row.entity is not None and row.entity.system
        moment, local = when_texts(e.hlc, zone)
        out.append(DenseRow(
            row, e.event_id, e.op, "access" if system else e.op, moment, local,
            row.user or "unknown", row.node, row.entity_label, row.title,
            f"{urls.event}{e.event_id}" if system else f"{urls.record}{e.entity}/{e.record_id}",
            ", ".join(f.label for f in row.state.changed) or "—", row.summary,
            bool(row.mark or e.meta.get("resolves") or e.meta.get("revert_of"))))
    return out


ROWS_KEPT = 10_000  # about 1.3 KB of HTML a row: some 13 MB per process at most


def remembered() -> Fragments:
    """This app's remembered rows (one app serves one database: event ids are unique
    within it, not across the apps a test run makes)."""
    found: Fragments = current_app.extensions.setdefault("hindsight.timeline_rows",
                                                         Fragments(ROWS_KEPT))
    return found


@dataclass(frozen=True)
class Reader:
    """What a row's HTML depends on besides its event and what `Shown` reads: the
    reader's zone, the pages' URL prefixes, and whether conflict marks link (admins)."""
    zone: tzinfo = field(compare=False)  # its name tells it
    zone_name: str
    urls: Urls
    admin: bool


def page_rows(session: Session, stored: Sequence[Any], nodes: Mapping[str, str],
              reader: Reader, renderer: Callable[[], Callable[..., Markup]]) -> list[Markup]:
    """The HTML of a page of dense rows. `stored`: the page's rows as store.timeline_rows
    reads them (documents still text); only the events whose rows are not remembered,
    or whose names, titles or mark changed since, are decoded, diffed and rendered.
    `renderer()`: the `dense_row` macro (asked for only when a row is rendered)."""
    memo = remembered()
    kept = [memo.get((r.event_id, reader)) for r in stored]
    decoded: dict[str, ChangeEvent] = {}
    wanted: dict[str, set[str]] = {}
    needs: list[tuple[tuple[str, str], ...]] = []
    for row, fragment in zip(stored, kept, strict=True):
        if fragment is None:
            event = decoded[row.event_id] = store.upcast(registry,
                                                         ChangeEvent.from_row(row._mapping))
            refs = event_rows.wanted_refs(event_rows.event_docs(event))
            needs.append(tuple(sorted((t, i) for t, ids in refs.items() for i in ids)))
        else:
            needs.append(fragment.needs)
        for target, ref in needs[-1]:
            wanted.setdefault(target, set()).add(ref)
    shown = Shown.read(session, (r.user_id for r in stored), wanted,
                       [r.event_id for r in stored])
    out: list[Markup | None] = []
    values = []
    for row, fragment, refs in zip(stored, kept, needs, strict=True):
        now = (shown.users.get(row.user_id or "", row.user_id or ""),
               nodes.get(row.origin_node_id, row.origin_node_id),
               tuple(shown.refs.get(ref) for _, ref in refs), shown.marks.get(row.event_id))
        values.append(now)
        out.append(fragment.html if fragment is not None and fragment.shown == now else None)
    missing = [i for i, html in enumerate(out) if html is None]
    if missing:
        events = [decoded.get(stored[i].event_id) or store.upcast(
            registry, ChangeEvent.from_row(stored[i]._mapping)) for i in missing]
        built = dense_rows(event_rows.build(session, events, nodes, dense=True, shown=shown),
                           reader.zone, reader.urls)
        render = renderer()
        for i, row in zip(missing, built, strict=True):
            html = out[i] = render(row, reader.urls)
            memo.put((row.event_id, reader), Fragment(needs[i], values[i], html))
    return [html for html in out if html is not None]
