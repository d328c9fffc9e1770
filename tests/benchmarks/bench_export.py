"""Issue 11: `flask audit export` of the timeline's history (1,000,000 events by
default), as CSV and as JSON Lines, each in a process of its own as an admin runs it
(common.flask_process): wall time, CPU time, peak memory (the process's own high-water
mark: the interpreter and the app, ~80 MB, and SQLite's page cache, 64 MB, included).

Bounded memory, shown twice. The peak of exporting every event against that of
exporting the newest tenth (one `--from` filter): equal if memory does not grow with
the events exported. And the Python heap under tracemalloc while streaming in this
process: its peak after a tenth of the events and after half of them."""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

from webapp.audit.db import make_engine
from webapp.audit.hlc import format_hlc
from webapp.audit.tables import change_events as ev

from . import dataset
from .common import (
    Progress,
    Report,
    Result,
    Settings,
    add_run,
    flask_process,
    say,
)

TARGET_S, TARGET_MB = 60.0, 300.0


def _newest_tenth_from(url: str, events: int) -> str:
    """A --from value at which the newest tenth of the history starts."""
    engine = make_engine(url)
    with engine.connect() as conn:
        hlc = conn.execute(sa.select(ev.c.hlc).order_by(ev.c.hlc.desc())
                           .offset(events // 10).limit(1)).scalar_one()
    engine.dispose()
    return format_hlc(hlc).split("+")[0]  # YYYY-MM-DDTHH:MM:SS.mmmZ


def _export(url: str, out: Path, fmt: str, *filters: str) -> tuple[float, float, float, int]:
    """(seconds, CPU seconds, peak MB, events exported) of one `flask audit export`."""
    done = flask_process(url, "audit", "export", "--format", fmt, "-o", str(out), *filters)
    if done.code != 0:
        raise RuntimeError(f"flask audit export failed: {done.stderr[-500:]}")
    exported = int(done.stderr.split("exported ")[-1].split()[0].replace(",", ""))
    return done.seconds, done.cpu_s, done.peak_mb, exported


def _heap_peaks(url: str, events: int) -> tuple[float, float]:
    """tracemalloc's peak (MB) after streaming a tenth, and half, of the events as JSON
    Lines in this process (the chunks are dropped as a download's are sent)."""
    from webapp import create_app
    from webapp.export.stream import chunks
    from webapp.extensions import db
    from webapp.timeline import lookup

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    peaks, marks = [], [events // 10, events // 2]
    bar = Progress("tracemalloc, JSON Lines", marks[-1])
    with app.app_context():
        session = db.session()
        query = lookup.parse(session, {})
        tracemalloc.start()
        done = 0
        for chunk in chunks(session, query, "jsonl", bar.advance):
            done = bar.done
            del chunk
            if done >= marks[len(peaks)]:
                peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
                if len(peaks) == len(marks):
                    break
        tracemalloc.stop()
        session.rollback()
        db.engine.dispose()
    bar.close()
    return peaks[0], peaks[1]


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== export: `flask audit export` of {events:,} events, CSV and JSON Lines ==")
    for backend, url in dataset.ensured_urls(settings.backends, events).items():
        since = _newest_tenth_from(url, events)
        with tempfile.TemporaryDirectory(prefix="hindsight-export-") as tmp:
            for fmt in ("csv", "jsonl"):
                out = Path(tmp) / f"events.{fmt}"
                seconds, cpu, peak, count = _export(url, out, fmt)
                size = out.stat().st_size / 2**20
                out.unlink()
                say(f"  {backend} {fmt:<5}: {count:,} events in {seconds:5.1f} s "
                    f"({cpu:.1f} s of CPU), peak {peak:4.0f} MB, {size:,.0f} MB written")
                add_run(report, "export", f"export {fmt}, {count:,} events", backend, seconds,
                        cpu, peak, TARGET_S, TARGET_MB)
            _, _, tenth_peak, tenth = _export(url, Path(tmp) / "tenth.jsonl", "jsonl",
                                              "--from", since)
        say(f"  {backend} jsonl : newest {tenth:,} events only: peak {tenth_peak:4.0f} MB")
        report.add(Result("export", f"export jsonl, newest {tenth:,} events: peak memory",
                          backend, tenth_peak, "MB"))
        first, half = _heap_peaks(url, events)
        say(f"  {backend}: Python heap peak {first:.1f} MB after {events // 10:,} events, "
            f"{half:.1f} MB after {events // 2:,}")
        report.add(Result("export", f"heap peak (tracemalloc), {events // 10:,} events",
                          backend, first, "MB"))
        report.add(Result("export", f"heap peak (tracemalloc), {events // 2:,} events",
                          backend, half, "MB"))
