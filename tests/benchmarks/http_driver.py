"""A fixed-rate (open-loop) HTTP load driver over loopback, and the CPU time a set of
processes spent: what the HTTP benchmark measures a real server with.

Open loop: request i is due at start + i / rate whatever happened before, and its
latency is counted from when it was due, so a slow server cannot hide its queue by
slowing the driver down (no coordinated omission). Each request opens its own
connection (gunicorn's sync workers close it after every response)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class LoadResult:
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_s: list[float]  # of the successful responses, from when each was due

    @property
    def achieved(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def named(command: str) -> list[int]:
    """The pids of this machine's processes called `command` (e.g. a local PostgreSQL's
    server processes, to count the database's CPU beside the app's)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == command:
                        out.append(int(entry))
            except OSError:  # gone meanwhile
                continue
    return out


def children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as found:
            out += [int(p) for p in found.read().split()]
    return out


async def _one(host: str, port: int, path: str, cookie: str, timeout: float) -> int:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)  # the whole body, until close
        return int(status_line.split()[1])
    finally:
        writer.close()


MAX_OPEN = 256  # connections at once (file descriptors); later requests wait their turn


async def _run(host: str, port: int, paths: list[str], cookie: str, rate: float,
               seconds: float, timeout: float) -> LoadResult:
    count = max(int(rate * seconds), 1)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    slots = asyncio.Semaphore(MAX_OPEN)

    async def fire(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(due - loop.time(), 0))
        try:
            async with slots:  # waiting here counts: latency runs from `due`
                status = await _one(host, port, paths[i % len(paths)], cookie, timeout)
        except (TimeoutError, OSError):
            errors += 1
            return
        if status == 200:
            latencies.append(loop.time() - due)
        else:
            errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(fire(i) for i in range(count)))
    return LoadResult(count, len(latencies), errors, time.perf_counter() - began, latencies)


def fixed_rate(host: str, port: int, paths: list[str], cookie: str, rate: float,
               seconds: float, timeout: float = 10.0) -> LoadResult:
    """Send `rate` requests a second for `seconds`, cycling through `paths`."""
    return asyncio.run(_run(host, port, paths, cookie, rate, seconds, timeout))


def sequential(host: str, port: int, path: str | list[str], cookie: str,
               count: int) -> LoadResult:
    """`count` requests one after another (for CPU per response, no queueing), cycling
    through `path` when it is a list."""
    return in_parallel(host, port, path, cookie, count, 1)


def in_parallel(host: str, port: int, path: str | list[str], cookie: str, rounds: int,
                width: int) -> LoadResult:
    """`rounds` rounds of `width` requests sent at once, each round waiting for its
    answers, cycling through `path` when it is a list. With `width` as the server's
    workers: to warm every one of them. Sequential requests would not: a worker woken
    alone for each connection (webapp.gunicorn_worker) serves nearly all of them."""
    paths = path if isinstance(path, list) else [path]

    async def timed(i: int) -> tuple[int, float]:
        start = time.perf_counter()
        status = await _one(host, port, paths[i % len(paths)], cookie, 30.0)
        return status, time.perf_counter() - start

    async def go() -> LoadResult:
        latencies, errors, began = [], 0, time.perf_counter()
        for done in range(0, rounds * width, width):
            for status, took in await asyncio.gather(*(timed(done + i) for i in range(width))):
                if status == 200:
                    latencies.append(took)
                else:
                    errors += 1
        return LoadResult(rounds * width, len(latencies), errors,
                          time.perf_counter() - began, latencies)
    return asyncio.run(go())
