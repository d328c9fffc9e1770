"""A record page's history rows with what each prints made text once, in Python (the
page lists 50 events with their diffs; per-row macro calls, url_for and date filters
cost more than the SQL under the page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from flask import url_for

from ..audit.hlc import format_hlc, unpack
from ..timeline.dense import when_texts
from ..timeline.rows import EventRow


@dataclass(frozen=True, slots=True)
class HistoryRow:
    row: EventRow
    moment: str  # ISO 8601 UTC, for <time datetime>
    local: str  # in the reader's zone
    hlc: str  # readable HLC, for the time's title
    counter: int  # the HLC's logical counter
    more_badges: bool  # a conflict mark, or a resolves/revert badge to show


@dataclass(frozen=True)
class RecordUrls:
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
