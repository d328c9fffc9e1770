"""A record page's history rows: what each prints made text once, in Python, and each
row's HTML (its badges, time, author and compact diff) remembered
(timeline/remembered.py). The page lists 50 events with their diffs; rendering them
cost more than the SQL under the page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, NamedTuple

from flask import url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from ..audit.events import ChangeEvent
from ..audit.hlc import format_hlc, unpack
from ..audit.replication import Mark
from ..audit.replication.provenance import Stamp
from ..timeline import remembered, rows
from ..timeline.dense import when_texts
from ..timeline.rows import EventRow, Shown


@dataclass(frozen=True, slots=True)
class HistoryRow:
    row: EventRow
    moment: str  # ISO 8601 UTC, for <time datetime>
    local: str  # in the reader's zone
    hlc: str  # readable HLC, for the time's title
    counter: int  # the HLC's logical counter
    more_badges: bool  # a conflict mark, or a resolves/revert badge to show


class RecordUrls(NamedTuple):
    """URL prefixes a history row appends an event id to, built once per page."""
    event: str
    at: str  # the record's page as of an event
    revert: str

    @classmethod
    def of(cls, entity: str, record_id: str) -> RecordUrls:
        return cls(url_for("timeline.event", event_id="_")[:-1],
                   url_for("records.show", entity=entity, record_id=record_id, at="_")[:-1],
                   url_for("records.revert", entity=entity, record_id=record_id,
                           event_id="_")[:-1])


def history_rows(rows: Sequence[EventRow], zone: tzinfo) -> list[HistoryRow]:
    out = []
    for row in rows:
        e = row.event
        moment, local = when_texts(e.hlc, zone)
        out.append(HistoryRow(row, moment, local, format_hlc(e.hlc), unpack(e.hlc)[1],
                              bool(row.mark or e.meta.get("resolves")
                                   or e.meta.get("revert_of"))))
    return out


@dataclass(frozen=True, slots=True)
class ListedEvent:
    event_id: str
    op: str
    html: Markup  # the remembered part of its row
    revert_to: dict[str, Any] | None  # what a revert to it restores (None for a delete)


def rows_and_sources(session: Session, stored: Sequence[Any], nodes: Mapping[str, str],
                     urls: RecordUrls, renderer: Callable[[], Callable[..., Markup]],
                     sources: Mapping[str, Stamp], also: Mapping[str, Iterable[str]]
                     ) -> tuple[list[ListedEvent], dict[str, Source], Mapping[str, str]]:
    """A page of the record's events (`stored`: as store.timeline_rows reads them, with
    AUTHORS_AND_SIDES beside), each row remembered, for this request's reader; and
    `sources` ({field: the event its value came from}) as the fields table names them;
    and the titles of the records the rows and `also` ({entity: ids}) name, read with
    the rows' labels. `renderer()`: the `history_entry` macro, asked for only when a row
    is rendered."""
    reader = remembered.Reader.here(urls)

    def render(events: list[ChangeEvent], shown: Shown) -> list[Markup]:
        built = history_rows(rows.build(session, events, nodes, params=False, shown=shown),
                             reader.zone)
        macro = renderer()
        return [macro(h, urls) for h in built]

    found, shown = remembered.page_rows(session, stored, nodes,
                                        remembered.kept_rows("history"), reader, render,
                                        keep=lambda e: e.post_state, extra=list(sources.values()),
                                        also=also)
    return ([ListedEvent(r.event_id, r.op, f.html, f.kept)
             for r, f in zip(stored, found, strict=True)],
            {name: Source(e, shown.users.get(e.user_id or "", e.user_id or ""),
                          nodes.get(e.origin_node_id, e.origin_node_id),
                          shown.marks.get(e.event_id)) for name, e in sources.items()},
            shown.refs)


@dataclass(frozen=True, slots=True)
class Source:
    """The change a field's current value came from, as the fields table names it."""
    event: Stamp
    user: str
    node: str
    mark: Mark | None
