"""Issue 9: `flask audit verify` over the timeline's history (1,000,000 events by
default): wall time, CPU time and peak memory of the whole command, run as an admin
runs it, in a process of its own. The peak is the process's own high-water mark
(VmHWM, which starts afresh at exec; getrusage's maxrss would count the benchmark
process it was forked from). It includes the interpreter and the app (about 80 MB
before the first event is read) and SQLite's page cache (64 MB)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time

from webapp.audit.db import make_engine

from . import dataset
from .common import ROOT, Report, Result, Settings, bench_url, say

TARGET_S, TARGET_MB = 60.0, 300.0


# Runs `flask audit verify ...` and, at exit, prints its own peak RSS and CPU seconds.
_WRAPPER = """
import atexit, os, re, runpy, sys
def report():
    status = open("/proc/self/status").read()
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
    cpu = sum(os.times()[:2])
    print(f"BENCH peak_kb={peak} cpu_s={cpu:.2f}", file=sys.stderr)
atexit.register(report)
sys.argv = ["flask", "--app", "wsgi", "audit", "verify", "--quiet", "--show", "5"]
runpy.run_module("flask", run_name="__main__")
"""


def _run_verify(url: str) -> tuple[float, float, float, int, str]:
    """(seconds, CPU seconds, peak MB, exit code, summary line) of one verify."""
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(16)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAPPER], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    found = re.search(r"BENCH peak_kb=(\d+) cpu_s=([\d.]+)", done.stderr)
    peak_mb, cpu = (int(found[1]) / 1024, float(found[2])) if found else (0.0, 0.0)
    lines = [line for line in (done.stdout + done.stderr).splitlines()
             if line.startswith(("verified", "FAILED"))] or [done.stderr[-300:]]
    return seconds, cpu, peak_mb, done.returncode, lines[-1]


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
        seconds, cpu, peak_mb, code, last = _run_verify(url)
        say(f"  {backend}: {seconds:6.1f} s ({cpu:.1f} s of CPU), peak {peak_mb:6.0f} MB, "
            f"exit {code}: {last}")
        report.add(Result("verify", f"audit verify, {events:,} events: time", backend,
                          seconds, "s", f"< {TARGET_S:g}", seconds < TARGET_S))
        report.add(Result("verify", f"audit verify, {events:,} events: CPU time", backend,
                          cpu, "s"))
        report.add(Result("verify", f"audit verify, {events:,} events: peak memory",
                          backend, peak_mb, "MB", f"< {TARGET_MB:g}", peak_mb < TARGET_MB))
        if code != 0:
            report.notes.append(f"verify on {backend} exited {code}: {last}")
