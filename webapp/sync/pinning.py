"""Pinning node keys from a peer's hello: the peer's own key, and the keys of the
origins it relays (each recorded with the node it was first learnt via). A pinned key
never changes: a hello announcing another key for a pinned node, or a peer whose key is
not the one pinned by hand (`peers add --key`), stops that peer's sync."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.keys import fingerprint, matches, own_public_key
from ..audit.tables import nodes
from .peers import Peer
from .protocol import Hello, SyncError


class PeerKeyError(SyncError):
    """A peer announced a key other than the one pinned for a node."""


def pin_keys(session: Session, peer: Peer, hello: Hello, own_id: str) -> None:
    session.rollback()
    if peer.key_fingerprint and (hello.public_key is None
                                 or not matches(hello.public_key, peer.key_fingerprint)):
        shown = fingerprint(hello.public_key) if hello.public_key else "no key"
        raise PeerKeyError(f"peer {peer.name!r} is pinned by hand to key "
                           f"{peer.key_fingerprint} but announced {shown}; refusing")
    announced = dict(hello.keys)
    if hello.public_key is not None:
        announced[hello.node_id] = hello.public_key
    if not announced:
        return
    pinned = {r.node_id: (r.public_key, r.key_via) for r in session.execute(
        sa.select(nodes.c.node_id, nodes.c.public_key, nodes.c.key_via))}
    own = own_public_key(session)
    fresh = {}
    for node_id, key in sorted(announced.items()):
        current, via = pinned.get(node_id, (None, None))
        if node_id == own_id:
            if key != own:
                raise PeerKeyError(f"peer {peer.name!r} announced key {fingerprint(key)} for "
                                   f"this node, whose key is "
                                   f"{fingerprint(own) if own else 'not set'}; refusing")
        elif current is not None and current != key:
            raise PeerKeyError(
                f"peer {peer.name!r} announced key {fingerprint(key)} for node {node_id}, "
                f"pinned to {fingerprint(current)} (first learnt via {via}); refusing (a pinned "
                f"key is never replaced by what a peer announces)")
        elif current is None and node_id in pinned:
            fresh[node_id] = key
    for node_id, key in fresh.items():
        unpinned = (nodes.c.node_id == node_id, nodes.c.public_key.is_(None))
        session.execute(nodes.update().where(*unpinned)
                        .values(public_key=key, key_via=hello.node_id))
    session.commit()
