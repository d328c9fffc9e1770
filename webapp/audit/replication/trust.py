"""Trust, checked before a batch writes anything: each origin's new events must link to
the stored head of that origin's chain and be covered by a signature of the origin's
pinned key.

An event is covered when a later-or-same event of its origin's chain carries that
origin's valid signature (the origin signs the last event of each transaction; the
hash chain covers the others). So per origin and batch one signature is verified: the
one at the end of the linked run. Events whose predecessor has not arrived (a relay may
hold an origin's events in another order) wait in chain_waiting, signed, and join the
chain when it reaches them; they are never dropped. Events that claim this node as
origin are accepted only as this node's own signed events re-learnt after a restore:
they must link to this node's chain head and verify against its own key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..events import ChangeEvent
from ..keys import (
    BAD_SIGNATURE,
    UNKNOWN_SIGNER,
    UNSIGNED_KEYED,
    fingerprint,
    public_keys,
    signature_verdict,
    verify_signature,
)
from ..node import GENESIS_HASH, NodeCursor
from ..transaction import chunks
from .chaintables import chain_heads, chain_waiting
from .errors import ReplicationError
from .wire import event_from_wire, event_to_wire

Pair = tuple[ChangeEvent, ChangeEvent]  # (upcast to the current schema, as received)
Upcast = Callable[[ChangeEvent], ChangeEvent]


class UntrustedEventError(ReplicationError):
    """An event its origin did not provably write, or that does not fit its chain."""


@dataclass
class Chains:
    """What the trust check decided for a batch: the events to apply (each origin's in
    chain order), the ones to hold back, and where each chain now ends."""
    ordered: list[Pair] = field(default_factory=list)
    waiting: list[ChangeEvent] = field(default_factory=list)  # to chain_waiting
    released: list[str] = field(default_factory=list)  # event ids leaving chain_waiting
    heads: dict[str, tuple[str, int]] = field(default_factory=dict)  # origin -> (hash, hlc)


def settle_chains(session: Session, own_id: str, cursor: NodeCursor, fresh: Sequence[Pair],
                  upcast: Upcast) -> Chains:
    """Check the batch's new events (`fresh`, in the peer's log order); raise
    UntrustedEventError naming the first one refused. `upcast` turns a waiting event
    released now into its current-schema form (and checks it: see check_released)."""
    by_origin: dict[str, list[tuple[int, Pair]]] = defaultdict(list)
    for position, pair in enumerate(fresh):
        by_origin[pair[1].origin_node_id].append((position, pair))
    if not by_origin:
        return Chains()
    keys = public_keys(session)
    stored = _stored_heads(session, [o for o in by_origin if o != own_id])
    waiting = _waiting(session, list(by_origin))
    result, placed = Chains(), []
    for origin, items in by_origin.items():
        if origin == own_id:
            if cursor.public_key is None:
                raise UntrustedEventError("it claims this node as its origin, but this node "
                                          "has no key to prove it wrote it",
                                          items[0][1][1].event_id)
            head = (cursor.last_hash, cursor.last_hlc)
            key: str | None = cursor.public_key
        else:
            head, key = stored.get(origin, (GENESIS_HASH, 0)), keys.get(origin)
        placed += _settle_origin(origin, key, head, items, waiting.get(origin, []), upcast,
                                 result, own=origin == own_id)
    result.ordered = [pair for _, _, pair in sorted(placed, key=lambda p: (p[0], p[1]))]
    return result


def _settle_origin(origin: str, key: str | None, head: tuple[str, int],
                   items: list[tuple[int, Pair]], held: list[ChangeEvent], upcast: Upcast,
                   result: Chains, own: bool) -> list[tuple[int, int, Pair]]:
    pool: dict[str, tuple[int | None, Pair]] = {}
    for position, pair in items:
        _add(pool, pair[1].prev_hash, (position, pair))
    for event in held:  # upcast (and checked) only once the chain reaches it
        _add(pool, event.prev_hash, (None, (event, event)))
    run: list[tuple[int | None, Pair]] = []
    link = head[0]
    while link in pool:
        entry = pool.pop(link)
        if entry[0] is None:
            entry = (None, (upcast(entry[1][1]), entry[1][1]))
        run.append(entry)
        link = entry[1][1].hash
    if run:
        _check_covered(origin, key, run[-1][1][1], own)
        result.heads[origin] = (run[-1][1][1].hash, run[-1][1][1].hlc)
    left = [(p, pair) for p, pair in pool.values() if p is not None]
    _hold_back(origin, key, head, left, result)
    placed, position = [], -1
    for index, (at, pair) in enumerate(run):
        position = max(position, -1 if at is None else at)  # never before its predecessor
        if at is None:
            result.released.append(pair[1].event_id)
        placed.append((position, index, pair))
    return placed


def _add(pool: dict[str, tuple[int | None, Pair]], prev: str,
         entry: tuple[int | None, Pair]) -> None:
    other = pool.get(prev)
    if other is not None and other[1][1].event_id != entry[1][1].event_id:
        raise UntrustedEventError(f"it and event {other[1][1].event_id} both claim to follow "
                                  f"the same event of origin {entry[1][1].origin_node_id}: "
                                  f"a fork in its chain", entry[1][1].event_id)
    pool[prev] = entry


def _check_covered(origin: str, key: str | None, last: ChangeEvent, own: bool) -> None:
    """The end of a run accepted into the chain carries the origin's valid signature
    (or the origin has no key, and none of its events is signed)."""
    verdict = signature_verdict(key, origin, last.hash, last.signature)
    if verdict == UNKNOWN_SIGNER:
        raise UntrustedEventError(f"it is signed, but no key of origin {origin} is "
                                  f"pinned here (its peer did not announce one)",
                                  last.event_id)
    if verdict == UNSIGNED_KEYED:
        raise UntrustedEventError(
            f"no signature of origin {origin} covers it (events after the origin's last "
            f"signature cannot be proven; a peer serves an origin's transactions whole)",
            last.event_id)
    if verdict == BAD_SIGNATURE:
        whose = "this node's own" if own else f"origin {origin}'s pinned"
        raise UntrustedEventError(f"its signature does not verify against {whose} key "
                                  f"{fingerprint(key or '')}", last.event_id)


def _hold_back(origin: str, key: str | None, head: tuple[str, int],
               left: list[tuple[int, Pair]], result: Chains) -> None:
    """Events that do not link to the chain's head: old ones (at or before the head's
    HLC: a replay, a fork) are refused; newer ones wait for their predecessor, each run
    proven by its origin's signature at its end."""
    if not left:
        return
    events = [pair[1] for _, pair in left]
    for event in events:
        if event.hlc <= head[1]:
            raise UntrustedEventError(
                f"it does not link to the head of origin {origin}'s chain here "
                f"({head[0][:12]}…): it is at or before that head (a replayed or forked "
                f"event)", event.event_id)
    followed = {e.prev_hash for e in events}
    for event in events:
        if event.hash not in followed:  # the end of a waiting run
            if key is None:
                continue  # a keyless origin: trusted by hash chain alone, once it links
            if event.signature is None or not verify_signature(key, origin, event.hash,
                                                               event.signature):
                raise UntrustedEventError(
                    f"it does not link to the head of origin {origin}'s chain here "
                    f"({head[0][:12]}…) and no valid signature of that origin covers it",
                    event.event_id)
    result.waiting += events


def _stored_heads(session: Session, origins: list[str]) -> dict[str, tuple[str, int]]:
    found = {}
    for chunk in chunks(origins):
        rows = session.execute(sa.select(chain_heads).where(
            chain_heads.c.origin_node_id.in_(chunk)))
        found.update({r.origin_node_id: (r.last_hash, int(r.last_hlc)) for r in rows})
    return found


def _waiting(session: Session, origins: list[str]) -> dict[str, list[ChangeEvent]]:
    found: dict[str, list[ChangeEvent]] = defaultdict(list)
    if not _any_waiting(session):
        return found
    for chunk in chunks(origins):
        rows = session.execute(sa.select(chain_waiting.c.origin_node_id, chain_waiting.c.body)
                               .where(chain_waiting.c.origin_node_id.in_(chunk)))
        for row in rows:
            found[row.origin_node_id].append(event_from_wire(canonical.loads(row.body)))
    return found


def _any_waiting(session: Session) -> bool:
    """One cheap probe; the usual answer is no."""
    return session.execute(sa.select(chain_waiting.c.event_id).limit(1)).first() is not None


def store_chains(session: Session, chains: Chains, source: str, own_id: str) -> None:
    """Write what settle_chains decided, in the batch's transaction (own head: the
    caller moves node_state)."""
    for chunk in chunks(chains.released):
        session.execute(chain_waiting.delete().where(chain_waiting.c.event_id.in_(chunk)))
    if chains.waiting:
        session.execute(chain_waiting.insert(), [
            {"event_id": e.event_id, "origin_node_id": e.origin_node_id,
             "prev_hash": e.prev_hash, "source_node_id": source,
             "body": canonical.dumps(event_to_wire(e))} for e in chains.waiting])
    remote = {o: h for o, h in chains.heads.items() if o != own_id}
    for chunk in chunks(remote):
        session.execute(chain_heads.delete().where(chain_heads.c.origin_node_id.in_(chunk)))
    if remote:
        session.execute(chain_heads.insert(), [
            {"origin_node_id": o, "last_hash": h, "last_hlc": hlc}
            for o, (h, hlc) in sorted(remote.items())])


def waiting_ids(session: Session, event_ids: Sequence[str]) -> set[str]:
    """The ids among `event_ids` of events waiting for their predecessor."""
    found: set[str] = set()
    if not _any_waiting(session):
        return found
    for chunk in chunks(event_ids):
        found.update(session.execute(sa.select(chain_waiting.c.event_id).where(
            chain_waiting.c.event_id.in_(chunk))).scalars())
    return found
