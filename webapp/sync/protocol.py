"""The sync wire protocol: paths, limits, and the two response documents.

GET /sync/hello                    -> {"protocol", "node_id", "name", "head_seq"}
GET /sync/events?after=S&limit=N   -> {"protocol", "node_id", "head_seq", "after",
                                       "events": [{"seq", "event"}], "more"}
GET /sync/snapshot?id=I&after=B&limit=N -> {"protocol", "node_id", "snapshot_id", "after",
                                       "lines": [...], "next": B or null}
                                       (the latest snapshot's lines from byte B; see
                                       audit/snapshot.py and snapshot_client.py)
Events are served in this node's seq order with their origin identity untouched, so a
node relays what it learnt from others and any topology converges."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..audit.ids import is_ulid
from ..audit.keys import is_public_key
from ..audit.node import peer_node_name

PROTOCOL = 1
HELLO_PATH = "/sync/hello"
EVENTS_PATH = "/sync/events"
SNAPSHOT_PATH = "/sync/snapshot"
SNAPSHOT_LINES = 10_000  # snapshot lines per page at most (and SERVE_MAX_BYTES)
# Events per pull. A catch-up applies each batch in one transaction, so a bigger batch
# shares one commit, one node lock and a dozen queries among more events: 2,000 applies
# 15-40% faster than 500 here. The cost: a local command may wait out one batch's apply
# (~0.4 s) behind the node lock. The response stays under SERVE_MAX_BYTES in any case.
DEFAULT_LIMIT = 2000
MAX_LIMIT = 2000  # the server serves at most this many events per response
SERVE_MAX_BYTES = 4 * 1024 * 1024  # the server stops adding events past this size
SERVE_HARD_BYTES = 7 * 1024 * 1024  # ... even where it is not at a signed point yet
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # the puller refuses a bigger response body
MAX_SEQ = 2**63 - 1
MAX_NODES = 1000  # node names a hello may carry
# A server may serve this many events past the limit to end a batch at a signed point
# of each origin in it (an origin's transaction is proven by the signature on its last
# event), so a puller accepts that many more than it asked for.
COVER_SLACK = 500


class SyncError(Exception):
    """Base of the errors that stop a peer's sync; the message is shown to admins."""


class ProtocolError(SyncError):
    """A peer's response that breaks the protocol; nothing of it is applied."""


def parse_seq(text: str | None, name: str, default: int | None = None) -> int:
    """A non-negative integer from a query argument; ValueError with a reason."""
    if text is None or text == "":
        if default is None:
            raise ValueError(f"{name} is required")
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_SEQ:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_SEQ}")
    return int(text)


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_batch(envelope: dict[str, Any], items: list[bytes], key: str = "events") -> bytes:
    """The events document from its envelope and its already encoded items, so a server
    encodes each event once (it needs each one's size to keep the response bounded)."""
    head = dumps({**envelope, key: []})
    empty = f'"{key}":[]'.encode()
    return head.replace(empty, empty[:-1] + b",".join(items) + b"]", 1)


# A \uD800-\uDFFF escape: half of a UTF-16 surrogate pair, valid only as a pair.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(body: bytes) -> dict[str, Any]:
    """A peer's JSON object, or ProtocolError. JSON may nest a value as deep as it
    likes (the parser gives up with RecursionError) and may escape half a surrogate
    pair, which decodes to a str no database or hash can encode: both are refused."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"the peer sent malformed JSON: {str(exc)[:120]}") from None
    except RecursionError:
        raise ProtocolError("the peer sent malformed JSON: values nested too deeply") from None
    if not isinstance(doc, dict):
        raise ProtocolError("the peer sent JSON that is not an object")
    if _SURROGATE_ESCAPE.search(body):
        check_encodable(doc)
    return doc


def check_encodable(doc: Any) -> None:
    """ProtocolError if a text in `doc` holds a lone surrogate (paired ones decode to
    one character, so every text left must encode as UTF-8)."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end].encode("utf-16", "surrogatepass")[2:]
        raise ProtocolError(f"the peer sent a lone surrogate (\\u{bad[::-1].hex()}) in a "
                            f"text: not valid Unicode") from None


def _int(doc: dict[str, Any], key: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise ProtocolError(f"the peer's {key!r} is not a non-negative integer")
    return value


def _node(doc: dict[str, Any]) -> str:
    if doc.get("protocol") != PROTOCOL:
        raise ProtocolError(f"the peer speaks protocol {str(doc.get('protocol'))[:20]!r}, "
                            f"this node speaks {PROTOCOL}")
    node_id = doc.get("node_id")
    if not isinstance(node_id, str) or not is_ulid(node_id):
        raise ProtocolError("the peer's node_id is not a ULID")
    return node_id


@dataclass(frozen=True)
class Hello:
    node_id: str
    name: str
    head_seq: int
    nodes: dict[str, str]  # {node_id: name} of every node the peer knows, itself included
    public_key: str | None = None  # the peer's own Ed25519 key (hex), once it has one
    keys: dict[str, str] = field(default_factory=dict)  # {node_id: key} it has pinned


def _keys(doc: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    own, known = doc.get("public_key"), doc.get("keys", {})
    if own is not None and not is_public_key(own):
        raise ProtocolError("the peer's public_key is not 64 lowercase hex digits")
    if not isinstance(known, dict) or len(known) > MAX_NODES:
        raise ProtocolError(f"the peer's 'keys' is not a map of at most {MAX_NODES} nodes")
    for node_id, key in known.items():
        if not (isinstance(node_id, str) and is_ulid(node_id)) or not is_public_key(key):
            raise ProtocolError("an entry of the peer's 'keys' is not a node id and a key")
    return own, known


def _name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 100:
        raise ProtocolError("a node name in the peer's hello is not a short text")
    return value


def parse_hello(doc: dict[str, Any]) -> Hello:
    """The peer's hello; the node names in it as this node keeps them (peer_node_name)."""
    node_id = _node(doc)
    name = peer_node_name(node_id, _name(doc.get("name")))
    known = doc.get("nodes", {})
    if not isinstance(known, dict) or len(known) > MAX_NODES:
        raise ProtocolError(f"the peer's 'nodes' is not a map of at most {MAX_NODES} nodes")
    if not all(isinstance(k, str) and is_ulid(k) for k in known):
        raise ProtocolError("a node id in the peer's hello is not a ULID")
    names = {k: peer_node_name(k, _name(v)) for k, v in known.items()}
    public_key, keys = _keys(doc)
    return Hello(node_id, name, _int(doc, "head_seq"), {**names, node_id: name},
                 public_key, keys)


@dataclass(frozen=True)
class Batch:
    node_id: str
    head_seq: int
    items: list[tuple[int, dict[str, Any]]]  # (seq in the peer's log, wire event)
    more: bool

    @property
    def last_seq(self) -> int | None:
        return self.items[-1][0] if self.items else None


def parse_batch(doc: dict[str, Any], after: int, limit: int) -> Batch:
    """Check the envelope: the batch answers `after`, holds at most `limit` events, in
    strictly rising seq order above `after`. The events themselves are checked on apply."""
    node_id, head = _node(doc), _int(doc, "head_seq")
    if _int(doc, "after") != after:
        raise ProtocolError(f"the peer answered for after={doc.get('after')!r}, not {after}")
    events = doc.get("events")
    if not isinstance(events, list):
        raise ProtocolError("the peer's 'events' is not a list")
    if len(events) > limit + COVER_SLACK:
        raise ProtocolError(f"oversized batch: asked for at most {limit} events, "
                            f"the peer sent {len(events)}")
    items: list[tuple[int, dict[str, Any]]] = []
    last = after
    for index, item in enumerate(events):
        if not isinstance(item, dict) or not isinstance(item.get("event"), dict):
            raise ProtocolError(f"batch item {index} is not {{'seq', 'event'}}")
        seq = _int(item, "seq")
        if seq <= last:
            raise ProtocolError(f"batch item {index} has seq {seq}, not above {last}")
        if seq > head:
            raise ProtocolError(f"batch item {index} has seq {seq}, above the head {head}")
        items.append((seq, item["event"]))
        last = seq
    more = doc.get("more")
    if not isinstance(more, bool):
        raise ProtocolError("the peer's 'more' is not true or false")
    return Batch(node_id, head, items, more)
