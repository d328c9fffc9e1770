"""webapp.gunicorn_worker.SyncWorker under a real gunicorn: it serves, waits on an
exclusive epoll, leaves no connection waiting on a busy worker, keeps the heartbeat the
master watches, and stops promptly on SIGTERM. A tiny WSGI app stands in for the
dashboard: what is tested is the worker, not the pages."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.benchmarks.http_driver import children

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
EPOLLEXCLUSIVE = 1 << 28  # as /proc/<pid>/fdinfo prints a registration's events
APP = '''
import os, pathlib, time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":  # say so (a file), then hold this worker
        pathlib.Path(environ["QUERY_STRING"]).touch()
        time.sleep(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
'''

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the worker's exclusive wake-up is Linux's epoll")


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process, self.port = process, port

    def get(self, path: str = "/") -> int:
        """The pid of the worker that answered."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path)
        answer = conn.getresponse()
        assert answer.status == 200
        return int(answer.read())

    def workers(self) -> set[int]:
        return set(children(self.process.pid))


def _epolls(pid: int) -> list[str]:
    """The fdinfo of each epoll the process holds."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[eventpoll]":
                out.append(Path(f"/proc/{pid}/fdinfo/{fd}").read_text())
        except FileNotFoundError:
            continue
    return out


@contextmanager
def serving(tmp_path: Path, timeout: int) -> Iterator[Server]:
    """Two workers, each waiting in its epoll; the master kills a worker that has not
    notified it within `timeout` s."""
    (tmp_path / "tinyapp.py").write_text(APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [str(GUNICORN), "-w", "2", "-k", "webapp.gunicorn_worker.SyncWorker",
         "--timeout", str(timeout), "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
         "--log-level", "warning", "tinyapp:app"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    served = Server(process, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                served.get()
                workers = served.workers()
                if len(workers) == 2 and all(_epolls(pid) for pid in workers):
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, \
                "gunicorn did not start two workers waiting in epoll"
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:  # the workers too, should the master have gone first
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path, 30) as served:
        yield served


def test_workers_wait_on_the_listener_exclusively(server: Server) -> None:
    listener = None
    for pid in server.workers():  # gunicorn's own sync worker waits with select(): no epoll
        assert server.get() in server.workers()
        registered = [line.split() for info in _epolls(pid)
                      for line in info.splitlines() if line.startswith("tfd:")]
        # The listening socket (shared) and the wake-up pipe (the worker's own).
        assert len(registered) == 2
        events = {int(fields[1]): int(fields[3], 16) for fields in registered}
        exclusive = [fd for fd, mask in events.items() if mask & EPOLLEXCLUSIVE]
        assert len(exclusive) == 1, events  # the listener, not the pipe
        link = os.readlink(f"/proc/{pid}/fd/{exclusive[0]}")
        assert link.startswith("socket:")
        listener = listener or link
        assert link == listener  # the same socket in every worker


def test_a_busy_worker_leaves_the_next_connection_to_an_idle_one(
        server: Server, tmp_path: Path) -> None:
    entered = tmp_path / "entered"
    slow: list[int] = []
    thread = threading.Thread(target=lambda: slow.append(server.get(f"/sleep?{entered}")))
    thread.start()
    deadline = time.monotonic() + 20
    while not entered.exists():  # a worker holds the slow request
        assert time.monotonic() < deadline
        time.sleep(0.02)
    quick = server.get()
    assert thread.is_alive(), "the quick request waited for the slow one"
    thread.join()
    assert slow and slow[0] != quick


def test_idle_workers_keep_their_heartbeat(tmp_path: Path) -> None:
    with serving(tmp_path, 4) as server:
        before = server.workers()
        time.sleep(9)  # past the timeout twice over: each would have been killed once
        assert server.workers() == before
        assert server.get() in before


def test_sigterm_stops_the_server_promptly(server: Server) -> None:
    """Promptly: the signal wakes each worker through its pipe, which the epoll watches,
    not when a 15 s poll times out."""
    start = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) == 0
    assert time.monotonic() - start < 5
