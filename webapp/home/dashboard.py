"""What the home page shows, read in one place: activity charts from the roll-up (over
the span the reader picked, in their zone), with names for users, nodes and entities."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from markupsafe import Markup
from sqlalchemy.orm import Session

from ..activity import charts, reads
from ..audit.records import titles
from ..domain import registry, users


@dataclass(frozen=True)
class Activity:
    span: charts.Span
    timeline: charts.ColumnChart
    by: tuple[charts.BarChart, ...]  # by entity, by user, by node
    key: tuple[object, ...] = ()  # what it was read for (see `activity`)


_CACHE: dict[tuple[object, ...], Activity] = {}
_HTML: dict[tuple[object, ...], Markup] = {}
_CACHE_SIZE = 64


def activity(session: Session, span_key: str, now: datetime, zone: tzinfo,
             nodes: Mapping[str, str], counted: int) -> Activity:
    """The charts, from this process's cache when nothing they show can have changed:
    the same roll-up (`counted`: its counted seq), span, zone, local hour and node names."""
    key = (span_key, str(zone), now.astimezone(zone).strftime("%Y-%m-%d %H"),
           counted, tuple(sorted(nodes.items())))
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        found = _CACHE[key] = replace(_activity(session, span_key, now, zone, nodes), key=key)
    return found


def charts_html(found: Activity, url_root: str, render: Callable[[], Markup]) -> Markup:
    """The charts as HTML, rendered once per `found` (its key says what it shows) and
    `url_root` (the links' prefix): the charts' cells cost more to render than to read."""
    key = (*found.key, url_root)
    html = _HTML.get(key)
    if html is None:
        if len(_HTML) >= _CACHE_SIZE:
            _HTML.clear()
        html = _HTML[key] = render()
    return html


def _activity(session: Session, span_key: str, now: datetime, zone: tzinfo,
              nodes: Mapping[str, str]) -> Activity:
    span = charts.SPANS.get(span_key, charts.SPANS[charts.DEFAULT_SPAN])
    buckets = charts.buckets(span, now, zone)
    daily = span.hours_per_bucket >= 24  # by-key totals from the per-day rows
    first, last = buckets[0].first_hour, buckets[-1].last_hour
    whole = {"from": buckets[0].filters["from"], "to": buckets[-1].filters["to"]}
    series = charts.column_chart(buckets, reads.hourly_totals(session, first, last))

    def rows(found: list[tuple[str, int]], names: Mapping[str, str], param: str,
             value_of: Mapping[str, str] | None = None) -> list[tuple[str, int, dict[str, str]]]:
        out = []
        for key, n in found:
            shown = names.get(key, key) or "unknown"
            filters = {**whole, param: (value_of or names).get(key, key)} if key else whole
            out.append((shown, n, filters))
        return out

    def top(dim: str) -> list[tuple[str, int]]:
        return reads.top_keys(session, dim, first, last, daily=daily)

    user_rows = top("user")
    usernames = titles(session, users, [k for k, _ in user_rows if k])
    labels = {e.name: e.plural for e in registry}
    by = (charts.bar_chart("By entity", rows(top("entity"), labels, "entity",
                                             {k: k for k in labels})),
          charts.bar_chart("By user", rows(user_rows, usernames, "user")),
          charts.bar_chart("By node", rows(top("node"), nodes, "node")))
    return Activity(span, series, by)
