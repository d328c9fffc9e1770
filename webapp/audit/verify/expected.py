"""What a record's events say it is now, from the heads of its events (the versions no
other version of it has seen).

One head: its post-state, or a tombstone when it deleted the record. Several concurrent
heads: the stored record is built from them all.

MERGE HOOK: today the record shows the winning head (greatest (hlc, origin_node_id)),
as replication/finalize.py writes it. Once replication/merge.py computes a record's
state by merging concurrent versions field by field, `expected_live_state` must call it
instead of returning the winner's state, so that verification checks what apply writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import vv


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
                        state_of: Callable[[HeadEvent], State | None]) -> State | None:
    """The state the stored row must hold (None: the record must be a tombstone).
    `state_of` decodes and upcasts a head's post-state."""
    # MERGE HOOK (issue 10): with several heads, switch to replication/merge.py here.
    chosen = winner(heads)
    return None if chosen.deleted else state_of(chosen)
