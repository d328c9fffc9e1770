"""Replicator: applies a batch pulled from one peer's log, in one transaction.

Each new event is stored with a new local seq (under the node lock, so a third node
pulling from here sees it in commit order, with its origin's id, HLC and hash), and
moves its record's heads: contained (skipped), descending (applied) or concurrent
(a collision, settled by lww and recorded as a conflict)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..compaction.points import compacted_ids
from ..entity import Registry
from ..events import ChangeEvent
from ..hlc import HybridClock
from ..ids import is_ulid
from ..node import lock_node, save_node
from ..prepared import insert_rows
from ..tables import change_events
from ..uow import UnitOfWork
from . import parking
from .checks import check_batch, check_released
from .errors import PayloadError, ReplicationError
from .finalize import finalize
from .heads import advance, head_of, is_collision
from .models import ApplyReport
from .state import States
from .statistics import Statistics
from .tracking import known_ids, move_cursor, read_cursor
from .trust import settle_chains, store_chains, waiting_ids
from .upgrades import settle_upgrades


class Replicator:
    """Applies remote events for one node. Thread-safe; share one per process."""

    def __init__(self, registry: Registry, clock: HybridClock, node_id: str) -> None:
        self.registry = registry
        self.clock = clock
        self.node_id = node_id
        self.statistics = Statistics()

    def apply_batch(self, session: Session, source_node_id: str, events: list[ChangeEvent],
                    source_seq: int, after: int | None = None) -> ApplyReport:
        """Apply events pulled from source's log, in that log's seq order, and move the
        cursor for source_node_id to source_seq (never back), in ONE transaction. On a
        ReplicationError nothing of the batch is applied and the cursor stays. `after`:
        the cursor the batch was asked for from; a batch is refused when the cursor is
        now behind it (this node started again from a snapshot while it was on its way,
        and would otherwise put the cursor back past events it no longer holds)."""
        if not is_ulid(source_node_id):
            raise PayloadError("the source node id is not a ULID")
        if isinstance(source_seq, bool) or not isinstance(source_seq, int) \
                or not 0 <= source_seq < 2**63:
            raise PayloadError("the source seq must be a non-negative 64-bit integer")
        settle_upgrades(session, self.registry, self.node_id)
        try:
            with _collector_paused():
                current = check_batch(self.registry, self.clock, events)
                with UnitOfWork(session) as uow:
                    run = self._run(session, source_node_id, current, events, source_seq,
                                    after)
                    uow.commit()
        except sa.exc.IntegrityError as exc:  # a state our checks did not foresee
            first = str(exc.orig).splitlines()[0][:200] if exc.orig else "integrity error"
            raise ReplicationError(f"the batch could not be stored: {first}") from exc
        self.statistics.applied(session, run.counts["applied"])
        return ApplyReport(**run.counts)

    def apply_within(self, session: Session, source_node_id: str, events: list[ChangeEvent],
                     source_seq: int) -> ApplyReport:
        """apply_batch inside the caller's transaction (which must not have read the
        node's state before: the lock comes first, or the caller already holds it); the
        caller commits or rolls back. A returning node replays its unsent events so, in
        the transaction that writes the snapshot they were kept across."""
        current = check_batch(self.registry, self.clock, events)
        return ApplyReport(**self._run(session, source_node_id, current, events,
                                       source_seq).counts)

    def _run(self, session: Session, source: str, current: list[ChangeEvent],
             events: list[ChangeEvent], source_seq: int, after: int | None = None) -> _Run:
        run = _Run(self, session, source)  # takes the node lock: the cursor read is current
        if after is not None and read_cursor(session, source) < after:
            raise ReplicationError(
                "this node's cursor on that peer went back while the batch was on its way "
                "(it started again from a snapshot): batch dropped, pull again")
        run.apply(current, events)
        move_cursor(session, source, source_seq, run.cursor.last_hlc)
        return run

    def cursor(self, session: Session, source_node_id: str) -> int:
        """The last seq of source_node_id's log applied here (0 before any)."""
        return read_cursor(session, source_node_id)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A batch allocates dozens of objects per event, nearly all freed by reference
    counting; the cyclic collector, set off by allocation counts, would walk the heap
    again and again for nothing (7-14% of a catch-up's apply time, measured). Paused
    for the batch, it runs as usual after. (Another thread's batch may end the pause
    early: harmless.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Run:
    def __init__(self, replicator: Replicator, session: Session, source: str) -> None:
        self.r, self.session, self.source = replicator, session, source
        self.cursor = lock_node(session)()
        replicator.clock.observe(self.cursor.last_hlc)
        self.states = States(session, replicator.registry)
        self.stored: list[dict[str, Any]] = []  # event rows, with their new local seq
        self.whole: list[ChangeEvent] = []  # the same events, upcast: merges read them
        self.unparked: list[str] = []
        self.newest = 0  # the greatest HLC stored: the clock receives it once, at the end
        self.counts: Counter[str] = Counter(applied=0, skipped=0, conflicts=0, parked=0,
                                            released=0)

    def apply(self, current: Sequence[ChangeEvent], originals: Sequence[ChangeEvent]) -> None:
        ids = [e.event_id for e in originals]
        known = (known_ids(self.session, ids) | waiting_ids(self.session, ids)
                 | compacted_ids(self.session, originals))
        fresh = []
        for now, original in zip(current, originals, strict=True):
            if original.event_id in known:
                self.counts["skipped"] += 1
            else:
                known.add(original.event_id)
                fresh.append((now, original))
        chains = settle_chains(self.session, self.r.node_id, self.cursor, fresh,
                               lambda e: check_released(self.r.registry, e))
        fresh = chains.ordered
        self.counts["parked"] += len(chains.waiting)
        self.states.ensure([(e.entity, e.record_id) for e, _ in fresh]
                           + parking.targets(self.r.registry, [e for e, _ in fresh]))
        for now, original in fresh:
            self._one(now, original, again=False)
        self._release()
        insert_rows(self.session, change_events, self.stored)
        parking.unpark(self.session, self.unparked)
        finalize(self.session, self.r.registry, self.states.changed(), self.whole)
        store_chains(self.session, chains, self.source, self.r.node_id)
        if self.r.node_id in chains.heads:  # this node's own events, re-learnt
            self.cursor.last_hash = chains.heads[self.r.node_id][0]
        if self.stored:  # the bounded receive rule; check_batch made sure it cannot refuse
            self.cursor.last_hlc = self.r.clock.receive(self.newest)
        save_node(self.session, self.cursor)

    def _one(self, now: ChangeEvent, original: ChangeEvent, again: bool) -> None:
        state = self.states.get(now.entity, now.record_id)
        heads = advance(state.heads, head_of(now))
        if heads is not None:
            waiting = parking.missing_target(self.r.registry, self.states, now)
            if waiting is not None:
                parking.park(self.session, self.source, original, waiting,
                             self.r.clock.last, again)
                self.counts["parked"] += 0 if again else 1
                return
            # The usual event follows the record's one head; any other may have been
            # written on several versions (settling their collision): look closer.
            state.recheck |= bool(now.vv_before) and not (
                len(state.heads) == 1 and state.heads[0].vv == now.vv_before)
            state.heads, state.changed = heads, True
            self.counts["applied"] += 1
            self.counts["conflicts"] += int(is_collision(heads))
        else:  # late (it arrived after a version that has seen it): it may complete
            # the history a settled collision is read from
            state.recheck = state.changed = True
            self.counts["skipped"] += 1
        if again:
            self.unparked.append(original.event_id)
            self.counts["released"] += 1
        self.cursor.last_seq += 1
        self.newest = max(self.newest, original.hlc)
        row = original.to_row()
        row["seq"] = self.cursor.last_seq
        self.stored.append(row)
        self.whole.append(now)

    def _release(self) -> None:
        """Apply the parked events that waited for a record this batch brought; those
        may bring others, so go on until a round releases nothing new."""
        seen: set[tuple[str, str]] = set()
        while True:
            keys = {(s.entity.name, s.record_id) for s in self.states.changed()} - seen
            waiting = parking.waiting_on(self.session, keys) if keys else []
            seen |= keys
            if not waiting:
                return
            for original in waiting:
                self._one(check_released(self.r.registry, original), original, again=True)
