"""Issue 2: HybridClock.now() throughput against a bare time.time_ns() loop, measured
back to back (best of a few rounds, so a busy neighbour process does not decide it)."""

from __future__ import annotations

import threading
import time

from webapp.audit.hlc import HybridClock

from .common import Report, Result, Settings, say


def _rate(loop: int, call: object) -> float:
    fn = call  # a local name: the loop measures the call, not an attribute lookup
    start = time.perf_counter()
    for _ in range(loop):
        fn()  # type: ignore[operator]
    return loop / (time.perf_counter() - start)


def _threaded(clock: HybridClock, loop: int, threads: int) -> float:
    def work() -> None:
        now = clock.now
        for _ in range(loop):
            now()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return threads * loop / (time.perf_counter() - start)


def run(settings: Settings, report: Report) -> None:
    loop = 200_000 if settings.quick else 1_000_000
    say(f"\n== clock: {loop:,} calls, best of 3 rounds ==")
    clock = HybridClock()
    bare = max(_rate(loop, time.time_ns) for _ in range(3))
    hlc = max(_rate(loop, clock.now) for _ in range(3))
    threaded = _threaded(clock, loop // 4, 4)
    say(f"  time.time_ns()        {bare:>14,.0f} calls/s  {1e9 / bare:8.0f} ns/call")
    say(f"  HybridClock.now()     {hlc:>14,.0f} calls/s  {1e9 / hlc:8.0f} ns/call"
        f"   ({hlc / bare:.2f} of time.time_ns)")
    say(f"  now(), 4 threads      {threaded:>14,.0f} calls/s  (all threads together)")
    report.add(Result("clock", "time.time_ns() calls/s", "-", bare, "calls/s"))
    report.add(Result("clock", "HybridClock.now() calls/s", "-", hlc, "calls/s"))
    report.add(Result("clock", "now() / time_ns()", "-", hlc / bare, "x"))
    report.add(Result("clock", "now() calls/s, 4 threads", "-", threaded, "calls/s"))
