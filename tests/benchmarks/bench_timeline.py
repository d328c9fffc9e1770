"""Issue 3: server time of timeline pages with a long history (1,000,000 events by
default): the global timeline's first page, a page 90% deep, a record's timeline (the
record with the most events, and a typical one) and a page filtered by entity.

Measured twice: through the core (webapp.audit.store.timeline) and through the real
routes (Flask test client, logged in as an admin: query, rows, diffs and template)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit import store
from webapp.audit.db import make_engine
from webapp.audit.tables import change_events as ev
from webapp.domain import registry

from . import dataset, plans
from .common import Report, Result, Settings, bench_url, ms_stats, say
from .timeline_web import measure_routes

TARGET_MS = 50.0


def _time(call: Callable[[], Any], runs: int) -> list[float]:
    call()  # warm caches and compiled statements once
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _deep_cursor(session: Session, events: int) -> store.Cursor:
    row = session.execute(sa.select(ev.c.hlc, ev.c.origin_node_id, ev.c.event_id)
                          .where(ev.c.seq == max(events // 10, 1))).one()
    return int(row.hlc), str(row.origin_node_id), str(row.event_id)


def cases(session: Session, facts: dataset.Facts) -> dict[str, Callable[[], Any]]:
    """The core calls that answer each page (the routes' page size: 50 events)."""
    deep = _deep_cursor(session, facts.events)

    def page(filters: store.TimelineFilter | None = None,
             before: store.Cursor | None = None) -> Callable[[], Any]:
        def call() -> Any:
            result = store.timeline(session, filters or store.TimelineFilter(), before, 50,
                                    registry)
            session.rollback()
            return result
        return call

    return {
        "first page": page(),
        "page 90% deep": page(before=deep),
        f"hot record ({facts.hot_events} events)": page(
            store.TimelineFilter(entity=facts.hot[0], record_id=facts.hot[1])),
        f"typical record ({facts.typical_events} events)": page(
            store.TimelineFilter(entity=facts.typical[0], record_id=facts.typical[1])),
        "entity = team": page(store.TimelineFilter(entity="team")),
        "entity = user (rare)": page(store.TimelineFilter(entity="user")),
        "op = deleted (rare)": page(store.TimelineFilter(op="deleted")),
    }


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events, runs = settings.timeline_events, settings.requests
    say(f"\n== timeline: {events:,} events per database; median and p95 of {runs} calls ==")
    report.notes.append("timeline: core = store.timeline (query + events decoded); route = "
                        "Flask test client GET, logged in (query, rows, diffs, template)")
    engines = {b: make_engine(bench_url(b, f"timeline_{events}", fresh=False))
               for b in settings.backends}
    facts = dataset.ensure(engines, events)
    for backend, engine in engines.items():
        say(f"\n  -- {backend}: through webapp.audit.store.timeline --")
        with Session(engine) as session:
            calls = cases(session, facts[backend])
            for name, call in calls.items():
                median, p95 = ms_stats(_time(call, runs))
                _record(report, backend, f"core: {name}", median, p95)
            plans.show(engine, calls)
        deep = _deep_cursor_text(engine, facts[backend])
        for name, samples in measure_routes(engine.url, facts[backend], deep, runs).items():
            median, p95 = ms_stats(samples)
            _record(report, backend, f"route: {name}", median, p95)
        engine.dispose()


def _deep_cursor_text(engine: sa.Engine, facts: dataset.Facts) -> str:
    with Session(engine) as session:
        return store.encode_cursor(_deep_cursor(session, facts.events))


def _record(report: Report, backend: str, name: str, median: float, p95: float) -> None:
    ok = median < TARGET_MS
    say(f"    {name:<52} median {median:8.1f} ms   p95 {p95:8.1f} ms   "
        f"{'ok' if ok else 'MISSED'}")
    report.add(Result("timeline", f"{name} median", backend, median, "ms", f"< {TARGET_MS:g}",
                      ok))
    report.add(Result("timeline", f"{name} p95", backend, p95, "ms"))

