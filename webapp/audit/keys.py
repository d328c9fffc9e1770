"""Node keys: each node signs its own hash chain with an Ed25519 key, so that any node
can prove who wrote an event without trusting the nodes that relayed it.

The origin signs the last event of each local transaction; the hash chain covers the
transaction's earlier events (and every earlier event of that origin). The message
signed is b"hindsight-chain-v1" 0x1f origin-node-id 0x1f event-hash. Public keys are
stored (this node's in node_state and nodes, others pinned in nodes); a private key
never is: the process holds it (hold()) after reading it from a file or the environment
(keyfiles.py)."""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from .errors import AuditError
from .events import ChangeEvent
from .tables import change_events, node_state, nodes

DOMAIN = b"hindsight-chain-v1"
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")
_HEX_SIGNATURE = re.compile(r"^[0-9a-f]{128}$")
FINGERPRINT_DIGITS = 32  # hex digits of SHA-256(public key) shown and pinned


class NodeKeyError(AuditError):
    """This node's key is missing, unreadable or not the one its database names."""


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_hex(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def is_public_key(text: object) -> bool:
    return isinstance(text, str) and bool(_HEX_KEY.fullmatch(text))


def message(origin_node_id: str, event_hash: str) -> bytes:
    return b"\x1f".join((DOMAIN, origin_node_id.encode(), event_hash.encode()))


def sign(private: Ed25519PrivateKey, origin_node_id: str, event_hash: str) -> str:
    return private.sign(message(origin_node_id, event_hash)).hex()


def verify_signature(public_key_hex: str, origin_node_id: str, event_hash: str,
                     signature_hex: str) -> bool:
    """True when signature_hex is origin's signature over event_hash by that key."""
    if not is_public_key(public_key_hex) or not isinstance(signature_hex, str) \
            or not _HEX_SIGNATURE.fullmatch(signature_hex):
        return False
    try:
        _public(public_key_hex).verify(bytes.fromhex(signature_hex),
                                       message(origin_node_id, event_hash))
    except InvalidSignature:
        return False
    return True


# What a signature proves against the key pinned for its origin (see signature_verdict).
SIGNED, UNSIGNED, UNSIGNED_KEYED, UNKNOWN_SIGNER, BAD_SIGNATURE = (
    "signed", "unsigned", "unsigned but keyed", "unknown signer", "bad signature")


def signature_verdict(key: str | None, origin_node_id: str, event_hash: str,
                      signature: str | None) -> str:
    """One rule for every place that takes an origin's word (the apply path's chains,
    a bootstrap's bases and chain starts): a signature must verify against the origin's
    pinned key; a signature with no key pinned is an unknown signer; no signature is
    UNSIGNED_KEYED when the origin has a key (nothing proves it wrote it), else
    UNSIGNED. Callers say in their own words what each means for them."""
    if signature is None:
        return UNSIGNED if key is None else UNSIGNED_KEYED
    if key is None:
        return UNKNOWN_SIGNER
    return SIGNED if verify_signature(key, origin_node_id, event_hash, signature) \
        else BAD_SIGNATURE


@lru_cache(maxsize=1024)
def _public(public_key_hex: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))


def fingerprint(public_key_hex: str) -> str:
    """Short and comparable by eye: the first 128 bits of SHA-256 of the raw key, in
    groups of four hex digits (e.g. 3f2a:91c0:...)."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:FINGERPRINT_DIGITS]
    return ":".join(digest[i:i + 4] for i in range(0, FINGERPRINT_DIGITS, 4))


def clean_fingerprint(text: str) -> str:
    """A fingerprint (32 hex digits, any ':', '-' or spaces between) or a whole public
    key (64 hex digits) as pinned: lowercase hex. ValueError with the reason."""
    digits = re.sub(r"[\s:-]", "", text or "").lower()
    if len(digits) not in (FINGERPRINT_DIGITS, 64) or not re.fullmatch(r"[0-9a-f]+", digits):
        raise ValueError(f"a key fingerprint is {FINGERPRINT_DIGITS} hex digits (as "
                         f"`flask node show` prints it, e.g. 3f2a:91c0:...), or the whole "
                         f"public key of 64; got {str(text)[:80]!r}")
    return digits


def matches(public_key_hex: str, pinned: str) -> bool:
    """Whether a key is the one pinned by hand (a cleaned fingerprint or whole key)."""
    if len(pinned) == 64:
        return public_key_hex == pinned
    return fingerprint(public_key_hex).replace(":", "") == pinned


# -- the private keys this process holds, by public key --------------------------------
_held: dict[str, Ed25519PrivateKey] = {}
_held_lock = threading.Lock()


def hold(private: Ed25519PrivateKey) -> str:
    """Keep `private` for signing this process's transactions; its public key (hex)."""
    public = public_key_hex(private)
    with _held_lock:
        _held[public] = private
    return public


def sign_last(events: list[ChangeEvent], node_id: str, public_key: str | None) -> None:
    """Seal a local transaction: sign its last event (in place in `events`) with the key
    whose public half the node's state names. A node with no key yet signs nothing; a node
    with a key whose private half this process does not hold cannot write at all."""
    if not events or public_key is None:
        return
    private = _held.get(public_key)
    if private is None:
        raise NodeKeyError(f"this node's key ({fingerprint(public_key)}) is not loaded: "
                           f"set HINDSIGHT_NODE_KEY or restore instance/node_key.pem")
    last = events[-1]
    signed = copy.copy(last)  # a new event, set before anyone sees it (replace() costs 5x)
    object.__setattr__(signed, "signature", sign(private, node_id, last.hash))
    events[-1] = signed


def public_keys(session: Session) -> dict[str, str]:
    """{node id: pinned public key (hex)} of every node with a key, this node included."""
    rows = session.execute(sa.select(nodes.c.node_id, nodes.c.public_key)
                           .where(nodes.c.public_key.is_not(None)))
    return {str(r.node_id): str(r.public_key) for r in rows}


@dataclass(frozen=True)
class Coverage:
    """What proves an event is its origin's: the signed event of its chain at or after
    it (None: no signature covers it yet, or its origin has no key: hash chain only)."""
    signed_event_id: str | None
    signed_hlc: int | None
    origin_key: str | None


def coverage(session: Session, event: ChangeEvent) -> Coverage:
    """The first signed event of the event's origin at or after it (a signature covers
    every earlier event of its chain through the hash links)."""
    key = public_keys(session).get(event.origin_node_id)
    if key is None:
        return Coverage(None, None, None)
    ev = change_events.c
    found = session.execute(sa.select(ev.event_id, ev.hlc).where(
        ev.origin_node_id == event.origin_node_id, ev.hlc >= event.hlc,
        ev.signature.is_not(None)).order_by(ev.hlc).limit(1)).first()
    if found is None:
        return Coverage(None, None, key)
    return Coverage(str(found.event_id), int(found.hlc), key)


def own_public_key(session: Session) -> str | None:
    found = session.execute(sa.select(node_state.c.public_key)).scalar()
    return None if found is None else str(found)


def set_own_key(session: Session, node_id: str, public_key: str) -> None:
    """Name `public_key` as this node's (not committed: the caller's transaction)."""
    session.execute(node_state.update().where(node_state.c.id == 1)
                    .values(public_key=public_key))
    session.execute(nodes.update().where(nodes.c.node_id == node_id)
                    .values(public_key=public_key, key_via=node_id))


@dataclass(frozen=True)
class KnownNode:
    """A node this database knows, with its pinned key and where that was learnt."""
    node_id: str
    name: str
    is_self: bool
    public_key: str | None
    key_via: str | None

    @property
    def fingerprint(self) -> str | None:
        return None if self.public_key is None else fingerprint(self.public_key)


def known_nodes(session: Session) -> list[KnownNode]:
    """This node first, then the others by name."""
    rows = session.execute(sa.select(nodes.c.node_id, nodes.c.name, nodes.c.is_self,
                                     nodes.c.public_key, nodes.c.key_via))
    found = [KnownNode(str(r.node_id), str(r.name), bool(r.is_self), r.public_key, r.key_via)
             for r in rows]
    return sorted(found, key=lambda n: (not n.is_self, n.name, n.node_id))
