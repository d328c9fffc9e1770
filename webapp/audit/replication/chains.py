"""Checking the hash chains of every origin a node holds events from.

Each node links its own events into a chain (every event hashes its predecessor's
hash), and a relay keeps each event's origin hash and link. So on any node, the events
of one origin, in that origin's order (its HLCs rise with its seq), must link up from
the genesis hash: an edited event fails its own hash, and a removed, inserted or
reordered one breaks a link. While a sync is still catching up, a link may also be
missing because the event has not arrived yet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..events import ChangeEvent
from ..node import GENESIS_HASH
from ..tables import change_events as ev

ALTERED = "its hash does not match its content"
UNLINKED = "it does not link to the previous event of its origin (missing, removed or moved)"


@dataclass(frozen=True)
class ChainBreak:
    origin_node_id: str
    event_id: str
    hlc: int
    problem: str


def verify_chains(session: Session, origin_node_id: str | None = None) -> list[ChainBreak]:
    """Every break in the chains of the origins this node holds events from (or of one
    origin). An empty list: every chain is complete and intact."""
    breaks = []
    previous: dict[str, str] = {}
    for event in _in_origin_order(session, origin_node_id):
        origin = event.origin_node_id
        if event.chained_hash(event.prev_hash) != event.hash:
            breaks.append(ChainBreak(origin, event.event_id, event.hlc, ALTERED))
        elif event.prev_hash != previous.get(origin, GENESIS_HASH):
            breaks.append(ChainBreak(origin, event.event_id, event.hlc, UNLINKED))
        previous[origin] = event.hash
    return breaks


def _in_origin_order(session: Session, origin: str | None) -> Iterator[ChangeEvent]:
    query = sa.select(ev).order_by(ev.c.origin_node_id, ev.c.hlc)
    if origin is not None:
        query = query.where(ev.c.origin_node_id == origin)
    for row in session.execute(query.execution_options(yield_per=1000)):
        yield ChangeEvent.from_row(row._mapping)
