"""Chart data for the home page, computed here so the templates only draw: the buckets
of the chosen span (hours, or days in the reader's zone), bar geometry for an inline SVG
(no JavaScript), and the timeline filters each bar links to. Pure: no Flask, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from .rollup import HOUR_MS

_MINUTES = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class Span:
    key: str
    label: str
    hours_per_bucket: int
    buckets: int


SPANS = {s.key: s for s in (Span("48h", "last 48 hours, per hour", 1, 48),
                             Span("14d", "last 14 days, per day", 24, 14))}
DEFAULT_SPAN = "14d"


@dataclass(frozen=True)
class Bucket:
    label: str  # e.g. "Mon 07" or "14:00"
    start: datetime  # in the reader's zone
    end: datetime  # exclusive
    first_hour: int
    last_hour: int

    @property
    def filters(self) -> dict[str, str]:
        """The timeline filters that show this bucket's events (to is inclusive)."""
        last_minute = self.end - timedelta(minutes=1)
        return {"from": self.start.strftime(_MINUTES), "to": last_minute.strftime(_MINUTES)}


@dataclass(frozen=True)
class Column:
    bucket: Bucket
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ColumnChart:
    """A bar per bucket; the SVG is `WIDTH` x `HEIGHT` user units (it scales)."""
    columns: tuple[Column, ...]
    peak: int
    total: int
    ticks: tuple[Column, ...]  # the columns whose label is printed under the axis

    WIDTH = 720
    HEIGHT = 160
    PLOT = 130  # bar area height; labels go below


def _hour(moment: datetime) -> int:
    return int(moment.timestamp() * 1000) // HOUR_MS


def buckets(span: Span, now: datetime, zone: tzinfo) -> list[Bucket]:
    """The span's buckets, oldest first, the last one holding `now`. Days are the
    reader's local days (a day with a DST change has 23 or 25 hours)."""
    local = now.astimezone(zone)
    out = []
    if span.hours_per_bucket == 1:
        top = local.replace(minute=0, second=0, microsecond=0)
        for n in range(span.buckets - 1, -1, -1):
            start = (top.astimezone(UTC) - timedelta(hours=n)).astimezone(zone)
            end = (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
            out.append(Bucket(start.strftime("%H:00"), start, end, _hour(start), _hour(start)))
        return out
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(span.buckets - 1, -1, -1):
        day = (today - timedelta(days=n)).date()
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        end_day = day + timedelta(days=1)
        end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
        # Hours are UTC hours: a zone off the hour (e.g. +05:30) counts an hour that
        # straddles midnight on the day it starts.
        out.append(Bucket(start.strftime("%a %d"), start, end, _hour(start),
                          _hour(end) - 1 if _hour(end) > _hour(start) else _hour(start)))
    return out


def column_chart(spans: list[Bucket], totals: dict[int, int]) -> ColumnChart:
    values = [sum(totals.get(h, 0) for h in range(b.first_hour, b.last_hour + 1))
              for b in spans]
    peak = max(values, default=0)
    slot = ColumnChart.WIDTH / max(len(spans), 1)
    columns = []
    for n, (bucket, value) in enumerate(zip(spans, values, strict=True)):
        height = round(ColumnChart.PLOT * value / peak, 1) if peak else 0.0
        columns.append(Column(bucket, value, round(n * slot + slot * 0.1, 1),
                              round(ColumnChart.PLOT - height, 1), round(slot * 0.8, 1),
                              height))
    every = max(1, len(columns) // 8)
    ticks = tuple(c for n, c in enumerate(columns) if (len(columns) - 1 - n) % every == 0)
    return ColumnChart(tuple(columns), peak, sum(values), ticks)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # of BarChart.BAR_WIDTH
    y: float
    filters: dict[str, str]  # timeline filters for this key over the span


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]

    WIDTH = 360
    LABEL = 130  # user units left of the bars for their labels
    BAR_WIDTH = 180
    ROW = 22

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * self.ROW


def bar_chart(title: str, rows: list[tuple[str, int, dict[str, str]]]) -> BarChart:
    """rows: (label, value, timeline filters), most first."""
    peak = max((value for _, value, _ in rows), default=0)
    bars = tuple(Bar(label, value, round(BarChart.BAR_WIDTH * value / peak, 1) if peak else 0,
                     n * BarChart.ROW, filters)
                 for n, (label, value, filters) in enumerate(rows))
    return BarChart(title, bars)
