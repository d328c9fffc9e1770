"""Giving a node its key: name the public key in the node's state and seal the chain
it has written so far, under the node lock, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from . import keys
from .node import lock_node
from .tables import change_events as ev
from .uow import UnitOfWork


@dataclass(frozen=True)
class KeyGiven:
    public_key: str
    earlier_events: int  # events this node wrote before it had a key
    sealed_seq: int | None  # the local seq of the chain head signed now (None: no events)


def give_key(session: Session, node_id: str, private: Ed25519PrivateKey) -> KeyGiven:
    """Make `private` this node's key. Its events written so far carry no signature:
    the head of its chain is signed now, in place, so that signature covers them all
    through the hash chain (a signature is not part of an event's content or hash)."""
    public = keys.public_key_hex(private)
    with UnitOfWork(session) as uow:
        cursor = lock_node(session)()
        if cursor.public_key is not None:
            raise keys.NodeKeyError(f"this node already has key "
                                    f"{keys.fingerprint(cursor.public_key)}")
        mine = ev.c.origin_node_id == node_id
        earlier = int(session.execute(sa.select(sa.func.count()).where(mine)).scalar_one())
        head = session.execute(sa.select(ev.c.seq).where(
            mine, ev.c.hash == cursor.last_hash)).scalar()
        if head is not None:
            session.execute(ev.update().where(ev.c.seq == head).values(
                signature=keys.sign(private, node_id, cursor.last_hash)))
        keys.set_own_key(session, node_id, public)
        uow.commit()
    keys.hold(private)
    return KeyGiven(public, earlier, None if head is None else int(head))
