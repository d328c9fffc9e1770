"""Reading the log in bounded memory: rows fetched a few thousand at a time (a
server-side cursor where the database has one), with progress told as they come."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

YIELD_PER = 2000
Tick = Callable[[int], None]  # rows read since the last call


def streamed(session: Session, query: Any, tick: Tick | None = None) -> Iterator[Any]:
    """The rows of `query`, YIELD_PER at a time; `tick(n)` after each YIELD_PER rows."""
    read = 0
    for row in session.execute(query.execution_options(yield_per=YIELD_PER)):
        yield row
        read += 1
        if tick is not None and read == YIELD_PER:
            tick(read)
            read = 0
    if tick is not None and read:
        tick(read)
