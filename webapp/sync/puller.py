"""Pull one peer until caught up (or for a bounded number of batches).

Each batch goes to Replicator.apply_batch, which applies it and advances this peer's
cursor in one transaction, or refuses all of it. A refusal stops the peer's sync with the
reason recorded on its row, so nothing after a refused event is skipped: the next run
asks again from the same cursor. Bookkeeping is a separate small transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..audit import store
from ..audit.compaction.points import epoch, holds_nothing, mark_arrival
from ..audit.errors import AuditError
from ..audit.replication import Replicator, event_from_wire
from . import peers as peer_store
from .client import PeerClient
from .peers import Peer
from .pinning import pin_keys
from .protocol import DEFAULT_LIMIT, Batch, SyncError

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (events done, events to do) since the start


class PeerIdentityError(SyncError):
    """The peer answered as a node other than the one it is pinned to."""


@dataclass
class SyncResult:
    peer: str
    node_id: str | None = None
    applied: int = 0
    skipped: int = 0
    conflicts: int = 0
    parked: int = 0
    released: int = 0
    batches: int = 0
    cursor: int = 0
    head_seq: int | None = None
    caught_up: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def unreachable(self) -> bool:
        """It failed only because the peer could not be reached (nothing was refused)."""
        return bool(self.error) and self.error.startswith("PeerUnreachable")

    def summary(self) -> str:
        if self.error:
            how = "unreachable" if self.unreachable else "refused"
            return f"{self.peer}: {how} -- {self.error}"
        state = "caught up" if self.caught_up else "more to pull"
        return (f"{self.peer}: {self.applied} applied, {self.skipped} already had, "
                f"{self.conflicts} concurrent with local changes (merged), "
                f"{self.parked} waiting for dependencies, "
                f"{self.released} released; cursor {self.cursor} of {self.head_seq} "
                f"({state})")


def check_identity(peer: Peer, answered: str, own_node_id: str) -> None:
    if answered == own_node_id:
        raise PeerIdentityError(f"peer {peer.name!r} answered with this node's own id "
                                f"{answered}: its URL points back at this node")
    if peer.node_id is not None and peer.node_id != answered:
        raise PeerIdentityError(
            f"peer {peer.name!r} is pinned to node {peer.node_id} but answered as node "
            f"{answered}; refusing. If that peer was rebuilt on purpose, remove and re-add it")


def sync_peer(session: Session, replicator: Replicator, peer: Peer, client: PeerClient, *,
              limit: int = DEFAULT_LIMIT, max_batches: int | None = None,
              progress: Progress | None = None) -> SyncResult:
    result = SyncResult(peer.name, node_id=peer.node_id)
    try:
        _pull(session, replicator, peer, client, limit, max_batches, progress, result)
    except (SyncError, AuditError, peer_store.PeerError) as exc:
        result.error = describe(exc, result)
    except SQLAlchemyError as exc:  # e.g. the local database is down: still say so
        log.exception("sync from %s failed on the local database", peer.name)
        result.error = f"local database error: {first_line(exc)}"
    except Exception as exc:  # anything else one peer's answer provokes stops that peer only
        log.exception("sync from %s failed unexpectedly", peer.name)
        result.error = "unexpected error: " + describe(exc, result)
    if result.error:
        peer_store.record_error(session, peer.name, result.error, result.head_seq)
    else:
        peer_store.record_success(session, peer.name, result.head_seq or 0)
    return result


def first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _pull(session: Session, replicator: Replicator, peer: Peer, client: PeerClient, limit: int,
          max_batches: int | None, progress: Progress | None, result: SyncResult) -> None:
    hello = client.hello()
    check_identity(peer, hello.node_id, replicator.node_id)
    if peer.node_id is None:
        peer_store.pin_node_id(session, peer.name, hello.node_id)
    peer_store.remember_nodes(session, hello.nodes, speaker=hello.node_id)
    pin_keys(session, peer, hello, replicator.node_id)
    node_id = result.node_id = hello.node_id
    result.head_seq = hello.head_seq
    start = result.cursor = replicator.cursor(session, node_id)
    have = store.last_seq_not_from(session, node_id)  # after the cursor: it acknowledges
    brand_new, restarted = holds_nothing(session), epoch(session)
    session.rollback()  # end the read; each batch is its own transaction
    # The next batch is fetched while this one is applied: its `after` is known already.
    # A prefetched batch is simply dropped if this one is refused.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-fetch") as pool:
        pending: Future[Batch] | None = pool.submit(client.events, result.cursor, limit,
                                                        have, brand_new, restarted)
        while pending is not None:
            if progress:
                progress(result.cursor - start, max((result.head_seq or 0) - start, 0))
            batch = pending.result()
            if batch.node_id != node_id:
                raise PeerIdentityError(f"peer {peer.name!r} answered hello as {node_id} "
                                        f"but served events as {batch.node_id}")
            result.head_seq = batch.head_seq
            if batch.last_seq is None:
                result.caught_up = True
                break
            room = max_batches is None or result.batches + 1 < max_batches
            pending = (pool.submit(client.events, batch.last_seq, limit, None, False, restarted)
                       if batch.more and room else None)
            events = [event_from_wire(doc) for _, doc in batch.items]
            report = replicator.apply_batch(session, node_id, events, batch.last_seq,
                                            after=result.cursor)
            for name in ("applied", "skipped", "conflicts", "parked", "released"):
                setattr(result, name, getattr(result, name) + getattr(report, name))
            result.cursor = batch.last_seq
            result.batches += 1
            result.caught_up = not batch.more
    if progress:
        progress(result.cursor - start, max((result.head_seq or 0) - start, 0))
    mark_arrival(session, time.time_ns() // 1_000_000)  # retention: when events arrived
    session.commit()


def describe(exc: Exception, result: SyncResult) -> str:
    """One line an admin can act on: what was refused, where, and why."""
    where = f"events after seq {result.cursor}" if result.node_id else "hello"
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # storable, whatever it quotes
    return f"{type(exc).__name__} ({where}): {text}"[:2000]
