"""Every origin's chain: each event's hash against its content, its link, its place in
HLC order, and the signature that covers it. The log is streamed once, ordered by
(origin, hlc, event_id) (the ix_events_origin index), so only one origin's walk is held
at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..events import ChangeEvent
from ..node import GENESIS_HASH
from ..tables import change_events as ev
from .chainwalk import OriginWalk
from .coverage import Coverage, VerifySignature
from .findings import Break, EventRef, Summary

YIELD_PER = 2000
_DOCUMENTS = ("meta", "params", "post_state", "pre_state", "vv_after", "vv_before")
# What the hash covers, in canonical (sorted) key order: ChangeEvent.content()'s keys.
_CONTENT = sorted(f for f in ChangeEvent.__dataclass_fields__
                  if f not in ("seq", "hash", "prev_hash", "signature"))
_SCALARS = tuple(k for k in _CONTENT if k not in _DOCUMENTS)


def content_hash(row: Mapping[Any, Any]) -> str:
    """The hash of a stored row as ChangeEvent.chained_hash makes it, built from the
    stored canonical JSON texts without decoding them (5x faster). A row whose texts
    are not canonical is decoded and hashed the slow way before it is called edited."""
    parts = []
    for key in _CONTENT:
        value = row[key]
        if key in _DOCUMENTS:
            text = "null" if value is None else value
        else:
            text = orjson.dumps(value).decode()
        parts.append(f'"{key}":{text}')
    digest = hashlib.sha256()
    digest.update(row["prev_hash"].encode())
    digest.update(b"\x1f")
    digest.update(("{" + ",".join(parts) + "}").encode())
    digest.update(b"\x1f")
    return digest.hexdigest()


def intact(row: Mapping[Any, Any]) -> bool:
    try:
        if content_hash(row) == row["hash"]:
            return True
        event = ChangeEvent.from_row({k: row[k] for k in (*_CONTENT, "prev_hash", "hash")})
        return event.chained_hash(event.prev_hash) == event.hash
    except (ValueError, TypeError, UnicodeError):  # a document that is not JSON at all
        return False


Tick = Callable[[int], None]


def check_chains(session: Session, own_node_id: str, own_head: str | None,
                 keys: Mapping[str, str], verify: VerifySignature | None,
                 summary: Summary, tick: Tick | None = None,
                 fingerprint: Callable[[str], str] = lambda key: key[:16],
                 every: bool = False) -> Iterator[Break]:
    """Yield the breaks of every origin's chain; `every`: check each signature, not
    only those the proof needs (coverage.py)."""
    query = sa.select(ev).order_by(ev.c.origin_node_id, ev.c.hlc, ev.c.event_id)
    walk: OriginWalk | None = None
    cover: Coverage | None = None
    read, last_digest = 0, GENESIS_HASH
    for row in session.execute(query.execution_options(yield_per=YIELD_PER)).mappings():
        origin = row["origin_node_id"]
        if walk is None or origin != walk.origin:
            if walk is not None and cover is not None:
                yield from _finish(walk, cover, own_node_id, own_head, summary)
            key = keys.get(origin)
            walk = OriginWalk(origin, local=origin == own_node_id)
            cover = Coverage(origin, key, verify, fingerprint(key) if key else "", every)
            summary.origins += 1
        assert cover is not None
        ref = EventRef(row["seq"], row["event_id"], row["hlc"])
        yield from walk.add(ref, row["prev_hash"], row["hash"], intact(row))
        continuous = row["prev_hash"] == (last_digest if walk.events > 1 else GENESIS_HASH)
        yield from cover.add(ref, row["hash"], row.get("signature"), continuous)
        last_digest = row["hash"]
        read += 1
        if tick is not None and read == YIELD_PER:
            tick(read)
            read = 0
    if tick is not None and read:
        tick(read)
    if walk is not None and cover is not None:
        yield from _finish(walk, cover, own_node_id, own_head, summary)


def _finish(walk: OriginWalk, cover: Coverage, own_node_id: str, own_head: str | None,
            summary: Summary) -> Iterator[Break]:
    if walk.origin == own_node_id and own_head is not None:
        found = walk.head_differs(own_head, "this node's state (node_state.last_hash)")
        if found is not None:
            yield found
    yield from walk.finish()
    yield from cover.finish()
    summary.events += walk.events
    summary.signed += cover.signed
    summary.chain_only += cover.chain_only
