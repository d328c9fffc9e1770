"""Issue 9: `flask audit verify` over the timeline's history (1,000,000 events by
default): wall time and peak memory of the whole command, run as an admin runs it, in
a process of its own (its peak resident set, from wait4, includes the interpreter and
the app: about 70 MB before the first event is read)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

from webapp.audit.db import make_engine

from . import dataset
from .common import ROOT, Report, Result, Settings, bench_url, say

TARGET_S, TARGET_MB = 60.0, 300.0


def _run_verify(url: str) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit code, last line of output) of one `flask audit verify`."""
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(16)}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "audit",
                              "verify", "--quiet", "--show", "5"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = output.strip().splitlines() or [""]
    return seconds, usage.ru_maxrss / 1024, child.returncode, lines[-1]


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== verify: `flask audit verify` over {events:,} events (hash chains, "
        "signatures, every record) ==")
    engines = {b: make_engine(bench_url(b, f"timeline_{events}", fresh=False))
               for b in settings.backends}
    dataset.ensure(engines, events)
    for backend, engine in engines.items():
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        seconds, peak_mb, code, last = _run_verify(url)
        say(f"  {backend}: {seconds:6.1f} s, peak {peak_mb:6.0f} MB, exit {code}: {last}")
        report.add(Result("verify", f"audit verify, {events:,} events: time", backend,
                          seconds, "s", f"< {TARGET_S:g}", seconds < TARGET_S))
        report.add(Result("verify", f"audit verify, {events:,} events: peak memory",
                          backend, peak_mb, "MB", f"< {TARGET_MB:g}", peak_mb < TARGET_MB))
        if code != 0:
            report.notes.append(f"verify on {backend} exited {code}: {last}")
