"""What every benchmark shares: settings, progress output, results, bench databases."""

from __future__ import annotations

import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from tests.support.databases import server_database
from webapp.audit.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "instance" / "bench"  # git-ignored; the 1M-event databases stay here
SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/mysql",
}


@dataclass
class Settings:
    quick: bool = False
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    timeline_events: int = 1_000_000
    catchup_events: int = 100_000
    requests: int = 50


@dataclass
class Result:
    section: str
    name: str
    backend: str
    value: float
    unit: str
    target: str = ""  # e.g. ">= 0.75"; empty when the figure has no target
    met: bool | None = None


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        return result


def say(text: str) -> None:
    print(text, flush=True)


class Progress:
    """A one-line progress bar on stderr: label, bar, percentage, count, rate, elapsed."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self._drawn = label, max(total, 1), 0, -1
        self.start = self._shown = time.perf_counter()
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._shown > 0.25 or self.done >= self.total:
            self._shown = now
            self._draw()

    def _draw(self) -> None:
        self._drawn = self.done
        share = min(self.done / self.total, 1.0)
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r  {self.label:<34} [{bar:<30}] {share:6.1%} "
                         f"{self.done:>9,}/{self.total:,} {rate:>9,.0f}/s {elapsed:6.1f}s")
        sys.stderr.flush()

    def close(self) -> float:
        if self._drawn != self.done:
            self._draw()
        sys.stderr.write("\n")
        return time.perf_counter() - self.start


def ms_stats(samples_s: list[float]) -> tuple[float, float]:
    """(median, p95) of durations in seconds, as milliseconds."""
    ordered = sorted(samples_s)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def server_available(backend: str) -> bool:
    if backend == "sqlite":
        return True
    try:
        engine = make_engine(SERVERS[backend])
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


def bench_url(backend: str, name: str, fresh: bool) -> str:
    """URL of the bench database `name` (hs_bench_<name>): created if missing, and
    dropped first when `fresh`. SQLite files live in instance/bench/. Several people
    benchmarking against the same servers: HINDSIGHT_BENCH_TAG=<word> gives each their
    own databases (hs_bench_<name>_<word>), or they reload each other's."""
    tag = "".join(c for c in os.environ.get("HINDSIGHT_BENCH_TAG", "").lower()
                  if c.isascii() and c.isalnum())[:12]
    name = f"hs_bench_{name}" + (f"_{tag}" if tag else "")
    if backend == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / f"{name}.sqlite3"
        if fresh:
            for extra in ("", "-wal", "-shm"):
                Path(str(path) + extra).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return server_database(SERVERS[backend], name, fresh)


def bench_engine(backend: str, name: str, fresh: bool = True) -> sa.Engine:
    """An engine on a bench database with the whole schema created (as the app has it)."""
    from webapp.schema import metadata

    engine = make_engine(bench_url(backend, name, fresh))
    metadata.create_all(engine)
    return engine


# Runs a flask command and, at exit, prints its own peak RSS and CPU seconds. The peak
# is the process's own high-water mark (VmHWM, which starts afresh at exec; getrusage's
# maxrss would count the benchmark process it was forked from).
_WRAPPER = """
import atexit, os, re, runpy, sys
def report():
    status = open("/proc/self/status").read()
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
    cpu = sum(os.times()[:2])
    print(f"BENCH peak_kb={peak} cpu_s={cpu:.2f}", file=sys.stderr)
atexit.register(report)
sys.argv = ["flask", "--app", "wsgi", *sys.argv[1:]]
runpy.run_module("flask", run_name="__main__")
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_s: float
    peak_mb: float
    code: int
    stdout: str
    stderr: str


def add_run(report: Report, section: str, name: str, backend: str, seconds: float,
            cpu_s: float, peak_mb: float, target_s: float = 60.0,
            target_mb: float = 300.0) -> None:
    """The figures of one command run in its own process: time, CPU time, peak memory."""
    report.add(Result(section, f"{name}: time", backend, seconds, "s", f"< {target_s:g}",
                      seconds < target_s))
    report.add(Result(section, f"{name}: CPU time", backend, cpu_s, "s"))
    report.add(Result(section, f"{name}: peak memory", backend, peak_mb, "MB",
                      f"< {target_mb:g}", peak_mb < target_mb))


def flask_process(url: str, *args: str, env: dict[str, str] | None = None,
                  stdin: str | None = None, show_progress: bool = False) -> Run:
    """`flask ARGS` on the database at `url`, in a process of its own, as an admin runs it
    (`env`: more environment variables; `stdin`: what it reads, e.g. for `flask shell`;
    `show_progress`: its stderr, where a Progress bar draws, is passed on as it comes)."""
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url,
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(16), **(env or {})}
    start = time.perf_counter()
    with subprocess.Popen([sys.executable, "-c", _WRAPPER, *args], cwd=ROOT, env=env,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as child:
        errors: list[str] = []
        reader = threading.Thread(target=_drain, args=(child.stderr, errors, show_progress))
        reader.start()
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(stdin or "")  # small: a script for `flask shell` at most
        child.stdin.close()
        stdout = child.stdout.read()
        child.wait()
        reader.join()
    seconds = time.perf_counter() - start
    stderr = "".join(errors)
    found = re.search(r"BENCH peak_kb=(\d+) cpu_s=([\d.]+)", stderr)
    peak_mb, cpu = (int(found[1]) / 1024, float(found[2])) if found else (0.0, 0.0)
    return Run(seconds, cpu, peak_mb, child.returncode, stdout, stderr)


def _drain(stream: IO[str] | None, into: list[str], echo: bool) -> None:
    """Read a child's stderr to its end (kept for the caller), echoing it if asked."""
    assert stream is not None
    while chunk := stream.read(256):
        into.append(chunk)
        if echo:
            sys.stderr.write(chunk)
            sys.stderr.flush()
