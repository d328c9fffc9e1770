"""What a record's events say it is now, from the heads of its events (the versions no
other version of it has seen).

One head: its post-state, or a tombstone when it deleted the record. Several concurrent
heads: the greatest (hlc, origin_node_id) decides whether the record lives; if it does,
its live heads merge field by field against their common ancestor, as apply writes it
(replication/finalize.py): replication.history computes that merge from the record's
events (replication/merge.py), read only for such records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import vv
from ..replication.heads import head_of
from ..replication.history import History


@dataclass
class HeadEvent:
    """One head of a record: enough of its event to rank it and, if needed, read it."""
    seq: int
    event_id: str
    origin_node_id: str
    hlc: int
    vv: dict[str, int]
    deleted: bool
    schema_version: int
    post_state: str | None = None  # canonical JSON text, read for the heads that count
    pre_state: str | None = None

    @property
    def rank(self) -> tuple[int, str]:
        return (self.hlc, self.origin_node_id)


def contains(big: dict[str, int], small: dict[str, int]) -> bool:
    """Whether version `big` has seen version `small` (every counter at least as high)."""
    for node, count in small.items():  # a plain loop: this runs for every event
        if big.get(node, 0) < count:
            return False
    return True


def advance(heads: list[HeadEvent], new: HeadEvent) -> list[HeadEvent]:
    """The heads once `new` is added (unchanged when a head has already seen it)."""
    for head in heads:
        if contains(head.vv, new.vv):
            return heads
    return [h for h in heads if not contains(new.vv, h.vv)] + [new]


def winner(heads: list[HeadEvent]) -> HeadEvent:
    return max(heads, key=lambda h: h.rank)


def merged_vv(heads: list[HeadEvent]) -> dict[str, int]:
    out: dict[str, int] = {}
    for head in heads:
        out = vv.merge(out, head.vv)
    return out


State = dict[str, Any]


def expected_live_state(heads: list[HeadEvent],
                        state_of: Callable[[HeadEvent], State | None],
                        history_of: Callable[[], History]) -> State | None:
    """The state the stored row must hold (None: the record must be a tombstone).
    `state_of` decodes and upcasts a head's post-state; `history_of` reads the record's
    history (upcast events), needed only to merge several live heads."""
    chosen = winner(heads)
    if chosen.deleted:
        return None
    live = [h for h in heads if not h.deleted]
    if len(live) == 1:
        return state_of(chosen)
    history = history_of()
    known = [history.by_dot.get((h.origin_node_id, h.vv.get(h.origin_node_id, 0)))
             for h in live]
    if any(k is None for k in known):
        return state_of(chosen)  # cannot happen: these heads were read from its events
    return history.merge([head_of(history.event(k)) for k in known if k is not None]).state
