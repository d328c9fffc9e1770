"""`python -m tests.benchmarks [--only NAME[,NAME]] [--quick] [--backends ...]`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from .common import Report, Settings, say, server_available

SECTIONS = ("clock", "writes", "timeline", "http", "replication", "keys", "verify", "export",
            "snapshot", "compaction", "domain", "login")


def parse(argv: list[str]) -> tuple[Settings, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="smaller runs (about 2 minutes)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql, mariadb")
    parser.add_argument("--events", type=int, help="timeline events (default 1,000,000; "
                        "quick 100,000)")
    parser.add_argument("--catchup", type=int, help="replication catch-up events "
                        "(default 100,000; quick 20,000)")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    bad = sorted(set(backends) - {"sqlite", "postgresql", "mariadb"})
    if bad or not backends:
        parser.error(f"unknown backend(s) {', '.join(bad) or '(none)'}")
    settings = Settings(quick=args.quick, backends=backends)
    settings.timeline_events = args.events or (100_000 if args.quick else 1_000_000)
    settings.catchup_events = args.catchup or (20_000 if args.quick else 100_000)
    if args.quick:
        settings.requests = 20
    return settings, sections


def summary(report: Report) -> None:
    say("\n== summary ==")
    say(f"  {'section':<12}{'figure':<56}{'backend':<12}{'value':>14}  {'unit':<8}{'target':<10}")
    for r in report.results:
        value = f"{r.value:,.2f}" if r.value < 100 else f"{r.value:,.0f}"
        mark = "" if r.met is None else ("ok" if r.met else "MISSED")
        say(f"  {r.section:<12}{r.name:<56}{r.backend:<12}{value:>14}  {r.unit:<8}"
            f"{r.target:<10}{mark}")
    for note in report.notes:
        say(f"  note: {note}")


def main(argv: list[str]) -> int:
    settings, sections = parse(argv)
    down = [b for b in settings.backends if not server_available(b)]
    if down:
        say(f"error: database server not reachable: {', '.join(down)}")
        return 2
    report, start = Report(), time.perf_counter()
    say(f"hindsight benchmarks: {', '.join(sections)} on {', '.join(settings.backends)}"
        f"{' (quick)' if settings.quick else ''}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} (other processes skew timings; ratios are measured "
        f"side by side to cancel most of it)")
    for name in sections:
        module = importlib.import_module(f".bench_{name}", __package__)
        module.run(settings, report)
    summary(report)
    say(f"\n  total {time.perf_counter() - start:.0f} s; load average now "
        f"{os.getloadavg()[0]:.1f}")
    missed = sum(r.met is False for r in report.results)
    say(f"  {missed} figure(s) below target" if missed else "  every target met")
    return 0  # figures are reported, never asserted: a missed target is not a failure


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
