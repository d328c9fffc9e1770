"""Issue 11: `flask audit snapshot` of the timeline's history (1,000,000 events by
default) in a process of its own (common.flask_process): wall time, CPU time and peak
memory; and the size of the file and of its records."""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import dataset
from .common import Report, Settings, add_run, flask_process, say

TARGET_S, TARGET_MB = 60.0, 300.0


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== snapshot: `flask audit snapshot` of a {events:,}-event log ==")
    for backend, url in dataset.ensured_urls(settings.backends, events).items():
        with tempfile.TemporaryDirectory(prefix="hindsight-snapshot-") as tmp:
            done = flask_process(url, "audit", "snapshot", "--quiet",
                                 env={"HINDSIGHT_SNAPSHOT_DIR": tmp})
            if done.code != 0:
                raise RuntimeError(f"flask audit snapshot failed: {done.stderr[-500:]}")
            size = sum(p.stat().st_size for p in Path(tmp).glob("*.jsonl")) / 2**20
        say(f"  {backend}: {done.seconds:5.1f} s ({done.cpu_s:.1f} s of CPU), peak "
            f"{done.peak_mb:4.0f} MB, {size:,.1f} MB file: {done.stdout.strip()[:160]}")
        add_run(report, "snapshot", f"snapshot of {events:,} events", backend, done.seconds,
                done.cpu_s, done.peak_mb, TARGET_S, TARGET_MB)
