"""Issue 11: `flask audit compact` of a whole log (1,000,000 events by default; no peers,
so everything the snapshot covers goes), and a brand-new node's bootstrap from that
snapshot (every record and tombstone written, chains started), each in a process of its
own: wall time, CPU time and peak memory. The log is loaded afresh into its own database
(compaction empties it). Replaying the log instead is the replication section's catch-up."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from webapp.audit.db import make_engine

from . import dataset
from .common import Report, Settings, add_run, bench_url, flask_process, say

TARGET_S, TARGET_MB = 60.0, 300.0
_CHILD = "from tests.benchmarks.bench_compaction import bootstrap_child as b; b()"


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== compaction: `flask audit compact` of {events:,} events, and a bootstrap ==")
    for backend in settings.backends:
        engine = make_engine(bench_url(backend, f"compact_{events}", fresh=True))
        dataset.ensure({backend: engine}, events)
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="hindsight-compact-") as tmp:
            env = {"HINDSIGHT_SNAPSHOT_DIR": tmp}
            if flask_process(url, "audit", "snapshot", "--quiet", env=env).code != 0:
                raise RuntimeError("flask audit snapshot failed")
            done = flask_process(url, "audit", "compact", "--quiet", env=env)
            if done.code != 0:
                raise RuntimeError(f"flask audit compact failed: {done.stderr[-500:]}")
            say(f"  {backend}: compact {done.seconds:5.1f} s ({done.cpu_s:.1f} s of CPU), "
                f"peak {done.peak_mb:4.0f} MB: {done.stdout.strip().splitlines()[-1][:160]}")
            add_run(report, "compaction", f"compact {events:,} events", backend, done.seconds,
                    done.cpu_s, done.peak_mb, TARGET_S, TARGET_MB)
            snapshot = next(Path(tmp).glob("*.jsonl"))
            target = bench_url(backend, f"bootstrap_{events}", fresh=True)
            boot = flask_process(target, "shell", env={**env, "PYTHONSTARTUP": "",
                                                       "BENCH_SNAPSHOT": str(snapshot)},
                                 stdin=_CHILD)
            if boot.code != 0 or "BOOTSTRAPPED" not in boot.stdout:
                raise RuntimeError(f"bootstrap failed: {boot.stderr[-800:]}")
            say(f"  {backend}: bootstrap {boot.seconds:5.1f} s ({boot.cpu_s:.1f} s of CPU), "
                f"peak {boot.peak_mb:4.0f} MB: {_said(boot.stdout, 'BOOTSTRAPPED')}")
            add_run(report, "compaction", f"bootstrap from a {events:,}-event snapshot",
                    backend, boot.seconds, boot.cpu_s, boot.peak_mb, TARGET_S, TARGET_MB)


def _said(out: str, mark: str) -> str:
    return next((line[line.index(mark):] for line in out.splitlines() if mark in line), "")


def bootstrap_child() -> None:
    """In `flask shell`: a brand-new node on this database, bootstrapped from the file."""
    import os

    from webapp.audit.compaction.bootstrap import bootstrap
    from webapp.domain import registry
    from webapp.extensions import db
    from webapp.runtime import auditor
    from webapp.schema import metadata

    metadata.create_all(db.engine)
    own = auditor().node_id
    path = Path(os.environ["BENCH_SNAPSHOT"])
    with path.open("rb") as stream:
        lines = (json.loads(line) for line in stream)
        first = next(lines)
        done = bootstrap(db.session(), registry, _chain(first, lines), own, first["node_id"])
    db.session.commit()
    print(f"BOOTSTRAPPED {done.records:,} records and {done.tombstones:,} tombstones",
          file=sys.stdout)


def _chain(first, rest):  # type: ignore[no-untyped-def]
    yield first
    yield from rest
