"""`verify_log`: the whole proof a node's database can give of itself, streamed.

Two passes over the log: the chains (every origin: hashes, links, order, signatures),
then the records (every current record and tombstone against its events). Breaks are
yielded as they are found, so a caller prints them at once and keeps none; the summary
counts everything. Progress goes to `progress(phase, done, total)`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..entity import Registry
from ..tables import change_events as ev
from ..tables import node_state
from .chaincheck import check_chains
from .coverage import VerifySignature
from .findings import Break, Summary
from .recordcheck import check_records
from .resting import resting_on_snapshots

Progress = Callable[[str, int, int], None]  # (phase, done, total)
CHAINS, RECORDS = "chains", "records"


def snapshot(session: Session) -> None:
    """Start a transaction whose reads all see the database as it is now: REPEATABLE
    READ on PostgreSQL and MariaDB; on SQLite an explicit BEGIN (WAL: a read
    transaction keeps its snapshot until it ends; the driver would not begin one)."""
    session.rollback()
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN")
    else:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def count_events(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(ev)).scalar_one())


def verify_log(session: Session, registry: Registry, summary: Summary, *,
               keys: Mapping[str, str] | None = None, verify: VerifySignature | None = None,
               fingerprint: Callable[[str], str] | None = None,
               progress: Progress | None = None, every_signature: bool = False
               ) -> Iterator[Break]:
    """Yield every break; fill `summary` as it goes. Reads only, in one transaction of
    its own that sees one snapshot of the database (a node may go on writing)."""
    snapshot(session)
    total = count_events(session)
    own = session.execute(sa.select(node_state.c.node_id, node_state.c.last_hash)).first()
    own_id, own_head = (own.node_id, own.last_hash) if own else ("", None)

    def ticker(phase: str) -> Callable[[int], None] | None:
        if progress is None:
            return None
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            progress(phase, done[0], total)
        return tick

    extra: dict[str, Any] = {"fingerprint": fingerprint} if fingerprint else {}
    for found in check_chains(session, own_id, own_head, keys or {}, verify, summary,
                              ticker(CHAINS), every=every_signature, **extra):
        summary.count(found)
        yield found
    for compared, differs in check_records(session, registry, ticker(RECORDS)):
        summary.records += compared
        if differs is not None:
            summary.count(differs)
            yield differs
    summary.resting = resting_on_snapshots(session)
