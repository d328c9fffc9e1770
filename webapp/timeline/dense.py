"""A dense timeline row as plain text, computed once in Python (the `dense_row` macro
prints each value), and a page of them rendered, each row's HTML remembered
(timeline/remembered.py): rendering 50 rows, with their diffs summed up, cost more than
every query under the page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, NamedTuple

from flask import url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from ..audit import store
from ..audit.events import ChangeEvent
from ..audit.hlc import to_datetime
from ..templating import macro
from . import remembered
from . import rows as event_rows
from .beside import AUTHORS_AND_SIDES
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


class Urls(NamedTuple):
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


def page_rows(session: Session, stored: Sequence[Any], nodes: Mapping[str, str],
              urls: Urls, renderer: Callable[[], Callable[..., Markup]]) -> list[Markup]:
    """The HTML of a page of dense rows (`stored`: as store.timeline_rows reads them,
    with AUTHORS_AND_SIDES beside), each remembered, for this request's reader.
    `renderer()`: the `dense_row` macro, asked for only when a row is rendered."""
    reader = remembered.Reader.here(urls)

    def render(events: list[ChangeEvent], shown: Shown) -> list[Markup]:
        built = dense_rows(event_rows.build(session, events, nodes, dense=True, shown=shown),
                           reader.zone, urls)
        macro = renderer()
        return [macro(row, urls) for row in built]

    found, _ = remembered.page_rows(session, stored, nodes, remembered.kept_rows("dense"),
                                    reader, render)
    return [f.html for f in found]


def newest(session: Session, nodes: Mapping[str, str], limit: int) -> list[Markup]:
    """The newest events' dense rows, each remembered (the dashboard's latest changes)."""
    stored, _ = store.timeline_rows(session, store.TimelineFilter(), None, limit,
                                    AUTHORS_AND_SIDES)
    return page_rows(session, stored, nodes, Urls.here(),
                     lambda: macro("timeline/_event.html", "dense_row"))
