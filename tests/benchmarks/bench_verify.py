"""Issue 9: `flask audit verify` over the timeline's history (1,000,000 events by
default): wall time, CPU time and peak memory of the whole command, run as an admin
runs it, in a process of its own (common.flask_process). The peak includes the
interpreter and the app (about 80 MB before the first event is read) and SQLite's page
cache (64 MB)."""

from __future__ import annotations

from . import dataset
from .common import Report, Settings, add_run, flask_process, say

TARGET_S, TARGET_MB = 60.0, 300.0


def _run_verify(url: str) -> tuple[float, float, float, int, str]:
    """(seconds, CPU seconds, peak MB, exit code, summary line) of one verify."""
    done = flask_process(url, "audit", "verify", "--quiet", "--show", "5")
    lines = [line for line in (done.stdout + done.stderr).splitlines()
             if line.startswith(("verified", "FAILED"))] or [done.stderr[-300:]]
    return done.seconds, done.cpu_s, done.peak_mb, done.code, lines[-1]


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== verify: `flask audit verify` over {events:,} events (hash chains, "
        "signatures, every record) ==")
    for backend, url in dataset.ensured_urls(settings.backends, events).items():
        seconds, cpu, peak_mb, code, last = _run_verify(url)
        say(f"  {backend}: {seconds:6.1f} s ({cpu:.1f} s of CPU), peak {peak_mb:6.0f} MB, "
            f"exit {code}: {last}")
        add_run(report, "verify", f"audit verify, {events:,} events", backend, seconds, cpu,
                peak_mb, TARGET_S, TARGET_MB)
        if code != 0:
            report.notes.append(f"verify on {backend} exited {code}: {last}")
