"""Checking the hash chains of every origin a node holds events from: the chain part of
`flask audit verify` (audit/verify/), without signatures or records.

Each node links its own events into a chain (every event hashes its predecessor's
hash), and a relay keeps each event's origin hash and link. So on any node, the events
of one origin, in that origin's order (its HLCs rise with its seq), must link up from
the genesis hash: an edited event fails its own hash, and a removed, inserted or
reordered one breaks a link. While a sync is still catching up, a link may also be
missing because the event has not arrived yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..verify.chaincheck import check_chains
from ..verify.findings import Summary


@dataclass(frozen=True)
class ChainBreak:
    origin_node_id: str
    event_id: str
    kind: str  # edited, removed, inserted, reordered (verify.findings.Kind)
    problem: str


def verify_chains(session: Session, own_node_id: str = "") -> list[ChainBreak]:
    """Every break in the chains of the origins this node holds events from. An empty
    list: every chain is complete and intact."""
    found = check_chains(session, own_node_id, None, {}, None, Summary())
    return [ChainBreak(b.origin_node_id, b.event_id or "", b.kind, b.detail) for b in found]
