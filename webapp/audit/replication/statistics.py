"""Fresh planner statistics while a node catches up.

A catch-up writes tens of thousands of rows a minute into tables whose statistics were
gathered when they were small, or never: autovacuum analyzes a minute or more later,
and not at all where it is off. PostgreSQL then plans a batch's id-list reads
(`entity = ? AND record_id = ANY(...)`) as if an entity held a few hundred events and
reads all of its events for 500 ids: 100-300 ms a read instead of a few, measured on a
100,000-event catch-up. So the replicator has the tables analyzed after it has written
5,000 events, then again each time what it wrote since doubles: a handful of ANALYZEs
for a catch-up of any size, none in a quiet node's steady state. Only the columns those
reads filter on: a whole change_events ANALYZE builds statistics of its JSON documents
too, ten times the cost (573 against 59 ms at 44,000 events, measured).

Only PostgreSQL needs it: InnoDB recalculates its statistics by itself after 10% of a
table changed, and SQLite's planner, without statistics, already takes the index that
matches most equalities."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from ..tables import change_events
from .tables import conflicts, replication_heads

FIRST = 5_000  # events applied before the first ANALYZE


class Statistics:
    """Counts the events a replicator applied; says when the tables need analyzing."""

    # The tables a batch reads by entity and id list (idlists.one_of), and those columns.
    READ_BY = ((change_events.name, ("entity", "record_id")),
               (conflicts.name, ("entity", "record_id")),
               (replication_heads.name, ("entity", "record_id")))

    def __init__(self, first: int = FIRST) -> None:
        self._lock = threading.Lock()
        self._applied, self._due = 0, first

    def applied(self, session: Session, events: int) -> None:
        """After a committed batch of `events`: analyze the tables it wrote when due."""
        with self._lock:
            self._applied += events
            due = self._applied >= self._due
            if due:
                self._due = self._applied * 2
        dialect = session.get_bind().dialect
        if due and dialect.name == "postgresql":
            quote = dialect.identifier_preparer.quote
            tables = ", ".join(f"{quote(t)} ({', '.join(map(quote, columns))})"
                               for t, columns in self.READ_BY)
            session.connection().exec_driver_sql(f"ANALYZE {tables}")
            session.commit()
