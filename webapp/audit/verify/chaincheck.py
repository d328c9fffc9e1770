"""Every origin's chain: each event's hash against its content, its link, its place in
HLC order, and the signature that covers it. The log is streamed once, ordered by
(origin, hlc, event_id) (the ix_events_origin index), so only one origin's walk is held
at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..compaction.points import starts
from ..events import CONTENT, DOCUMENTS, ChangeEvent
from ..node import GENESIS_HASH
from ..tables import change_events as ev
from .chainwalk import OriginWalk
from .coverage import Coverage, VerifySignature
from .findings import Break, EventRef, Kind, Summary
from .streaming import Tick, streamed

# What the hash covers: ChangeEvent.content()'s keys; then what the walk needs.
_CONTENT = CONTENT
_COLUMNS = (*_CONTENT, "prev_hash", "hash", "seq", "signature")
CHAIN_COLUMNS = _COLUMNS[:len(_CONTENT) + 1]  # what content_hash reads: content, prev_hash
_N = len(_CONTENT)
_DOC_AT = tuple(i for i, key in enumerate(_CONTENT) if key in DOCUMENTS)
_AT = {key: i for i, key in enumerate(_COLUMNS)}
_SORT = orjson.OPT_SORT_KEYS
_NULL = orjson.Fragment("null")


def content_hash(row: Sequence[Any]) -> str:
    """The hash of a stored row (values in _COLUMNS order) as ChangeEvent.chained_hash
    makes it, built from the stored canonical JSON texts without decoding them: they go
    into the canonical text as they are (orjson fragments). A row whose texts are not
    canonical is decoded and hashed the slow way before it is called edited (intact)."""
    values = list(row[:_N])
    for i in _DOC_AT:
        text = values[i]
        values[i] = _NULL if text is None else orjson.Fragment(text)
    text = orjson.dumps(dict(zip(_CONTENT, values, strict=True)), option=_SORT)
    digest = hashlib.sha256(row[_N].encode())
    digest.update(b"\x1f")
    digest.update(text)
    digest.update(b"\x1f")
    return digest.hexdigest()


def intact(row: Sequence[Any]) -> bool:
    try:
        if content_hash(row) == row[_N + 1]:
            return True
    except (TypeError, ValueError):  # a value orjson will not write: the slow way decides
        pass
    try:
        event = ChangeEvent.from_row(dict(zip(_COLUMNS[:_N + 2], row, strict=False)))
        return event.chained_hash(event.prev_hash) == event.hash
    except (ValueError, TypeError, UnicodeError):  # a document that is not JSON at all
        return False


def check_chains(session: Session, own_node_id: str, own_head: str | None,
                 keys: Mapping[str, str], verify: VerifySignature | None,
                 summary: Summary, tick: Tick | None = None,
                 fingerprint: Callable[[str], str] = lambda key: key[:16],
                 every: bool = False) -> Iterator[Break]:
    """Yield the breaks of every origin's chain; `every`: check each signature, not
    only those the proof needs (coverage.py)."""
    query = sa.select(*(ev.c[name] for name in _COLUMNS)).order_by(
        ev.c.origin_node_id, ev.c.hlc, ev.c.event_id)
    walk: OriginWalk | None = None
    cover: Coverage | None = None
    at_origin, at_hlc, at_id = _AT["origin_node_id"], _AT["hlc"], _AT["event_id"]
    at_prev, at_hash, at_seq, at_sig = _AT["prev_hash"], _AT["hash"], _AT["seq"], _AT["signature"]
    last_digest, own_seen = GENESIS_HASH, False
    compacted = starts(session)  # a compacted origin's chain starts at its last removed event
    for row in streamed(session, query, tick):
        origin = row[at_origin]
        if walk is None or origin != walk.origin:
            own_seen = own_seen or origin == own_node_id
            if walk is not None and cover is not None:
                yield from _finish(walk, cover, own_node_id, own_head, summary)
            key = keys.get(origin)
            walk = OriginWalk(origin, local=origin == own_node_id,
                              start=compacted.get(origin, GENESIS_HASH))
            cover = Coverage(origin, key, verify, fingerprint(key) if key else "", every)
            summary.origins += 1
        assert cover is not None
        ref = EventRef(row[at_seq], row[at_id], row[at_hlc])
        prev, digest = row[at_prev], row[at_hash]
        yield from walk.add(ref, prev, digest, intact(row))
        continuous = prev == (last_digest if walk.events > 1 else walk.start)
        yield from cover.add(ref, digest, row[at_sig], continuous)
        last_digest = digest
    if walk is not None and cover is not None:
        yield from _finish(walk, cover, own_node_id, own_head, summary)
    if not own_seen and own_head not in (None, GENESIS_HASH, compacted.get(own_node_id)):
        yield Break(Kind.REMOVED, own_node_id, "its chain", "this node's state says its "
                    f"last event has hash {str(own_head)[:16]}…, but no event of it is stored")


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
