"""Issue 12: the dashboard over real HTTP. `gunicorn -w 4` serves a PostgreSQL node with
1,000,000 events (the timeline benchmark's database); a driver on loopback measures
each page's server CPU per response (gunicorn's master and workers, from /proc, over
sequential requests) and then a mix of the pages at fixed rates: achieved rate, p50 and
p99 (open loop: latency from when each request was due). The home page's roll-up is
caught up first; that catch-up (what a first view after a bulk load pays) is timed too.

The driver shares the machine's cores with the server (and, on a shared machine, with
whatever else runs), so the figures are an upper bound on what the app costs."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit.db import make_engine
from webapp.audit.store import encode_cursor
from webapp.audit.tables import change_events as ev

from . import dataset
from .bench_timeline import _deep_cursor_text
from .common import ROOT, Report, Result, Settings, bench_url, say
from .history import ADMIN
from .http_driver import children, cpu_seconds, fixed_rate, in_parallel, named, sequential
from .timeline_web import bench_password

CPU_TARGET_MS = 5.0
P99_TARGET_MS = 50.0
RATES = (25, 50, 100, 200)
ROUNDS = 5  # of each page's sequential requests, the pages taking turns
HOST = "127.0.0.1"
WORKERS = 4
WORKER = "webapp.gunicorn_worker.SyncWorker"  # as the README's production command


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every table joins the metadata)
    from webapp.activity import rollup

    events = settings.timeline_events
    if "postgresql" not in settings.backends:
        say("\n== http: skipped (it runs on postgresql) ==")
        return
    say(f"\n== http: gunicorn -w 4 on postgresql, {events:,} events ==")
    engine = make_engine(bench_url("postgresql", f"timeline_{events}", fresh=False))
    facts = dataset.ensure({"postgresql": engine}, events)["postgresql"]
    with Session(engine) as session:
        start, counted = time.perf_counter(), rollup.refresh(session, limit=2 * events)
        took = time.perf_counter() - start
    if counted >= 10_000:  # a catch-up after a bulk load (later runs count a few)
        say(f"  activity roll-up caught up with {counted:,} events in {took:.1f} s")
        report.add(Result("http", "roll-up catch-up per 1,000 events", "postgresql",
                          took * 1000 / counted * 1000, "ms"))
    deep = _deep_cursor_text(engine, facts)
    password = bench_password(engine.url)
    hot_entity, hot_id = facts.hot
    pages = {"home": "/", "timeline first page": "/timeline",
             "timeline deep page": f"/timeline?before={deep}",
             "timeline filtered (entity=team)": "/timeline?entity=team",
             f"hot record page ({facts.hot_events} events)": f"/e/{hot_entity}/{hot_id}"}
    with gunicorn(engine.url) as (port, master):
        cookie = login(port, password)
        pids = [master, *children(master)]
        count = 30 if settings.quick else 150
        for path in pages.values():
            in_parallel(HOST, port, path, cookie, 12, WORKERS)  # every worker warm
        # The pages take turns, ROUNDS rounds of count / ROUNDS requests each, so a slow
        # spell of a shared machine weighs on every page alike, not on whichever page it
        # fell on; the figure is each page's CPU over all its rounds, and the spread of
        # its rounds says how steady the machine was.
        database = named("postgres")  # the local server's processes, for its CPU too
        cpu = dict.fromkeys(pages, 0.0)
        db_cpu = dict.fromkeys(pages, 0.0)
        ok = dict.fromkeys(pages, 0)
        errors = dict.fromkeys(pages, 0)
        rounds: dict[str, list[float]] = {name: [] for name in pages}
        latencies: dict[str, list[float]] = {name: [] for name in pages}
        reference: list[float] = []
        for _ in range(ROUNDS):
            reference.append(_reference_ms())
            for name, path in pages.items():
                before, db_before = cpu_seconds(pids), cpu_seconds(database)
                done = sequential(HOST, port, path, cookie, max(count // ROUNDS, 1))
                spent = cpu_seconds(pids) - before
                cpu[name] += spent
                db_cpu[name] += cpu_seconds(database) - db_before
                ok[name] += done.ok
                errors[name] += done.errors
                rounds[name].append(spent / max(done.ok, 1) * 1000)
                latencies[name] += done.latencies_s
        say(f"  {'machine: a fixed Python loop':<34} {sorted(reference)[ROUNDS // 2]:6.1f} ms "
            f"CPU (rounds {min(reference):.1f}-{max(reference):.1f}): how fast this machine "
            "ran meanwhile; the same code gives other page figures on a slower day")
        report.add(Result("http", "machine: a fixed Python loop, CPU", "postgresql",
                          sorted(reference)[ROUNDS // 2], "ms"))
        for name, path in pages.items():
            cpu_ms = cpu[name] / max(ok[name], 1) * 1000
            db_ms = db_cpu[name] / max(ok[name], 1) * 1000
            p50 = _percentile(latencies[name], 50)
            size = _size(port, path, cookie)
            say(f"  {name:<34} {cpu_ms:6.1f} ms CPU/response   "
                f"(rounds {min(rounds[name]):.1f}-{max(rounds[name]):.1f}; "
                f"PostgreSQL {db_ms:.1f})   {p50:6.1f} ms alone   {size / 1024:5.0f} KB"
                f"{'' if errors[name] == 0 else f'  {errors[name]} errors'}")
            report.add(Result("http", f"{name}: app CPU per response", "postgresql", cpu_ms,
                              "ms", f"<= {CPU_TARGET_MS:g}", cpu_ms <= CPU_TARGET_MS))
            report.add(Result("http", f"{name}: PostgreSQL CPU per response", "postgresql",
                              db_ms, "ms"))
        # Rows are remembered per process (webapp/rendered.py), so the figures above
        # are of pages seen before (each worker is warm); pages never seen before show
        # what a first view costs, every row decoded, diffed and rendered.
        unseen = [f"/timeline?before={c}" for c in _cursors(engine, count)]
        before = cpu_seconds(pids)
        done = sequential(HOST, port, unseen, cookie, len(unseen))
        cpu_ms = (cpu_seconds(pids) - before) / max(done.ok, 1) * 1000
        say(f"  {'timeline pages never seen (cold)':<34} {cpu_ms:6.1f} ms CPU/response   "
            f"{_percentile(done.latencies_s, 50):6.1f} ms alone"
            f"{'' if done.errors == 0 else f'  {done.errors} errors'}")
        report.add(Result("http", "timeline pages never seen: app CPU per response",
                          "postgresql", cpu_ms, "ms", f"<= {CPU_TARGET_MS:g}",
                          cpu_ms <= CPU_TARGET_MS))
        seconds = 5 if settings.quick else 15
        for rate in RATES:
            _drain(port, cookie)
            before, driver = cpu_seconds(pids), time.process_time()
            load = fixed_rate(HOST, port, list(pages.values()), cookie, rate, seconds)
            cpu_ms = (cpu_seconds(pids) - before) / max(load.ok, 1) * 1000
            driver_ms = (time.process_time() - driver) / max(load.sent, 1) * 1000
            p50, p99 = (_percentile(load.latencies_s, q) for q in (50, 99))
            say(f"  mix at {rate} req/s for {seconds} s: achieved {load.achieved:6.1f} req/s, "
                f"p50 {p50:6.1f} ms, p99 {p99:7.1f} ms, {cpu_ms:5.1f} ms CPU/response "
                f"(the driver's {driver_ms:.1f}), {load.errors} errors")
            report.add(Result("http", f"mix at {rate} req/s: achieved", "postgresql",
                              load.achieved, "req/s"))
            report.add(Result("http", f"mix at {rate} req/s: p50", "postgresql", p50, "ms"))
            report.add(Result("http", f"mix at {rate} req/s: p99", "postgresql", p99, "ms",
                              f"< {P99_TARGET_MS:g}" if rate == 200 else "",
                              p99 < P99_TARGET_MS if rate == 200 else None))
    report.notes.append("http: CPU is gunicorn's (master + 4 workers) from /proc; the driver "
                        "and PostgreSQL share the same cores (PostgreSQL's CPU: its local "
                        "server processes, background work included)")
    engine.dispose()


def _reference_ms() -> float:
    """CPU of a fixed pure-Python loop in this process (no I/O): the machine's speed
    when the pages were measured, to compare runs of different days by."""
    start, total = time.process_time(), 0
    for i in range(1_000_000):
        total += i * i % 7
    return (time.process_time() - start) * 1000


def _cursors(engine: sa.Engine, count: int) -> list[str]:
    """Cursors of `count` timeline pages spread over the log, none shown yet."""
    with engine.connect() as conn:
        last = int(conn.execute(sa.select(sa.func.max(ev.c.seq))).scalar_one())
        step = max(last // (count + 2), 1)
        rows = conn.execute(sa.select(ev.c.hlc, ev.c.origin_node_id, ev.c.event_id)
                            .where(ev.c.seq.in_([step * (i + 1) for i in range(count)]))).all()
    return [encode_cursor((int(r.hlc), str(r.origin_node_id), str(r.event_id))) for r in rows]


def _drain(port: int, cookie: str) -> None:
    """Wait until the server answers a request promptly again (the last run's queue is
    gone), so one rate's overload does not spill into the next one's figures."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        start = time.perf_counter()
        _size(port, "/login", cookie)
        if time.perf_counter() - start < 0.2:
            return
        time.sleep(1)


def _percentile(samples: list[float], q: int) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(url: sa.URL) -> Iterator[tuple[int, int]]:
    """(port, master pid) of `gunicorn -w 4 wsgi:app` on the database at `url`."""
    port = _free_port()
    env = {**os.environ, "HINDSIGHT_DATABASE_URL": url.render_as_string(hide_password=False),
           "HINDSIGHT_SECRET_KEY": secrets.token_hex(32)}
    key = dataset.private_key_hex(url)
    if key:  # to sign the access events a login writes
        env["HINDSIGHT_NODE_KEY"] = key
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(WORKERS), "-k", WORKER,
         "-b", f"{HOST}:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    out = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


def login(port: int, password: str) -> str:
    """Log the bench admin in through the real form (CSRF included): the Cookie header."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", "/login")
    page = conn.getresponse()
    jar = _cookies(page)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode())
    assert token, "no CSRF token on the login page"
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("POST", "/login", urlencode({"username": ADMIN, "password": password,
                                             "csrf_token": token.group(1)}),
                 {"Content-Type": "application/x-www-form-urlencoded",
                  "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    answer = conn.getresponse()
    answer.read()
    if answer.status != 302:
        raise RuntimeError(f"bench login answered {answer.status}")
    jar.update(_cookies(answer))
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _size(port: int, path: str, cookie: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie})
    return len(conn.getresponse().read())
