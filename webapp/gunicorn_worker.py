"""gunicorn's sync worker, woken alone: `gunicorn -w 4 -k webapp.gunicorn_worker.SyncWorker`.

gunicorn's own sync workers wait for a connection with select() on the listening socket
they share, and the kernel wakes every idle worker for each connection: one accepts, the
others find nothing (EAGAIN) and go back to waiting. On a small machine those wasted
wake-ups compete with the worker serving the page for the same cores and caches: with
four workers on two cores, gunicorn's CPU per page (all its processes) was 25-35%
higher with its own worker than with this one (`make bench`, http section).

This worker waits on epoll with EPOLLEXCLUSIVE instead (Linux 4.5 and later; nginx does
the same): the kernel wakes one idle worker per connection (or a few, as its manual
allows), and only workers waiting in epoll, so a busy worker is never the only one
woken. Everything else (accepting, the heartbeat the master watches, signals, graceful
stops) is gunicorn's sync worker unchanged. Where epoll or the flag is refused it waits
as gunicorn's does."""

from __future__ import annotations

import os
import select
from typing import Any

from gunicorn.workers.sync import SyncWorker as _GunicornSyncWorker


class SyncWorker(_GunicornSyncWorker):
    _poller: select.epoll | None = None
    _waited: dict[int, Any]  # fd -> what gunicorn's wait() returns for it

    def run(self) -> None:
        # Here, after the fork and init_process (wait_fds is set), in the worker itself.
        self._poller = self._exclusive_poller()
        super().run()

    def _exclusive_poller(self) -> select.epoll | None:
        flag = getattr(select, "EPOLLEXCLUSIVE", None)
        if flag is None or not hasattr(select, "epoll"):
            return None
        poller = select.epoll()
        self._waited = {}
        try:
            for waited in self.wait_fds:  # the listening sockets and the wake-up pipe
                fd = waited if isinstance(waited, int) else waited.fileno()
                self._waited[fd] = waited
                # Only the listeners are shared between workers; the pipe is this one's.
                poller.register(fd, select.EPOLLIN | (flag if fd != self.PIPE[0] else 0))
        except OSError:  # a kernel (or sandbox) that refuses the flag
            poller.close()
            return None
        return poller

    def wait(self, timeout: float) -> list[Any]:
        if self._poller is None:
            return super().wait(timeout) or []
        self.notify()  # the heartbeat, as gunicorn's wait() gives it
        ready = [self._waited[fd] for fd, _ in self._poller.poll(timeout)]
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
            if not self.alive:
                # Told to stop (a signal woke us). A connection that came at the same
                # moment woke this worker alone: serve it, or it would wait for another
                # worker's poll to time out.
                for listener in ready:
                    if listener != self.PIPE[0]:
                        try:
                            self.accept(listener)
                        except (BlockingIOError, ConnectionAbortedError):
                            pass  # another worker took it
        return ready
