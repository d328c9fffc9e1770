"""webapp.gunicorn_worker.SyncWorker under a real gunicorn: it serves, waits on an
exclusive epoll, leaves no connection waiting on a busy worker, keeps the heartbeat the
master watches, and stops on SIGTERM. A tiny WSGI app stands in for the dashboard: what
is tested is the worker, not the pages."""

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

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
APP = '''
import os, time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
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
        found = set()
        for task in os.listdir(f"/proc/{self.process.pid}/task"):
            with open(f"/proc/{self.process.pid}/task/{task}/children") as children:
                found |= {int(pid) for pid in children.read().split()}
        return found


@contextmanager
def serving(tmp_path: Path, timeout: int) -> Iterator[Server]:
    """Two workers; the master kills one that has not notified it within `timeout` s."""
    (tmp_path / "tinyapp.py").write_text(APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [str(GUNICORN), "-w", "2", "-k", "webapp.gunicorn_worker.SyncWorker",
         "--timeout", str(timeout), "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
         "--log-level", "warning", "tinyapp:app"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    served = Server(process, port)
    deadline = time.monotonic() + 30
    while True:
        try:
            served.get()
            if len(served.workers()) == 2:
                break
        except OSError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
        time.sleep(0.1)
    try:
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path, 30) as served:
        yield served


def test_workers_serve_and_wait_on_an_exclusive_epoll(server: Server) -> None:
    assert server.get() in server.workers()
    for pid in server.workers():  # gunicorn's own sync worker waits with select(): no epoll
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        assert "anon_inode:[eventpoll]" in links


def test_a_busy_worker_leaves_the_next_connection_to_an_idle_one(server: Server) -> None:
    slow: list[int] = []
    thread = threading.Thread(target=lambda: slow.append(server.get("/sleep?3")))
    thread.start()
    time.sleep(0.5)  # the slow request is being served
    quick = server.get()
    assert thread.is_alive(), "the quick request waited for the slow one"
    thread.join()
    assert slow and slow[0] != quick


def test_idle_workers_keep_their_heartbeat(tmp_path: Path) -> None:
    with serving(tmp_path, 2) as server:
        before = server.workers()
        time.sleep(4)
        assert server.workers() == before
        assert server.get() in before


def test_sigterm_stops_the_server(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) == 0
