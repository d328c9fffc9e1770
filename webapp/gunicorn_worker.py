"""gunicorn's sync worker, woken alone: `gunicorn -w 4 -k webapp.gunicorn_worker.SyncWorker`.

gunicorn's own sync workers wait for a connection with select() on the listening socket
they share, and the kernel wakes every idle worker for each connection: one accepts, the
others find nothing (EAGAIN) and go back to waiting. On a small machine those wasted
wake-ups run beside the worker that serves the page, competing for the same cores and
caches. `make bench` (http section) measured the app's own CPU per page 25-35% higher
with four workers woken than with one.

This worker waits on epoll with EPOLLEXCLUSIVE instead (Linux 4.5 and later; nginx does
the same): the kernel wakes one idle worker per connection, never one that is busy, so a
connection still goes to any idle worker at once. Everything else (accepting, the
heartbeat the master watches, signals, graceful stops) is gunicorn's sync worker
unchanged. Where epoll or the flag is missing it waits as gunicorn's does."""

from __future__ import annotations

import os
import select
from typing import Any

from gunicorn.workers.sync import SyncWorker as _GunicornSyncWorker

EXCLUSIVE = getattr(select, "EPOLLEXCLUSIVE", None)


class SyncWorker(_GunicornSyncWorker):
    _poller: Any = None
    _by_fd: dict[int, Any]

    def wait(self, timeout: float) -> list[Any] | None:
        if EXCLUSIVE is None or not hasattr(select, "epoll"):
            return super().wait(timeout)
        self.notify()  # the heartbeat, as gunicorn's wait() gives it
        if self._poller is None:  # here, not in __init__: after the fork, in the worker
            self._poller = select.epoll()
            self._by_fd = {}
            for waited in self.wait_fds:  # the listening sockets and the wake-up pipe
                fd = waited if isinstance(waited, int) else waited.fileno()
                self._by_fd[fd] = waited
                # Only the listeners are shared between workers; the pipe is this one's.
                flags = select.EPOLLIN | (EXCLUSIVE if fd != self.PIPE[0] else 0)
                self._poller.register(fd, flags)
        ready = [self._by_fd[fd] for fd, _ in self._poller.poll(timeout)]
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
        return ready
