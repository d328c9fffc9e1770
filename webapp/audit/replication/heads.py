"""The heads of a record: its versions that no other version it has seen dominates.

The state of a record is a function of the set of its events: the heads are the
maximal events under version-vector order, and the record shows the head with the
greatest (hlc, origin_node_id). The heads are built incrementally, but the maximal set
of a set does not depend on the order its members arrived in, so every node that has
the same events has the same heads, the same winner and the same merged vector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import vv
from ..events import ChangeEvent


@dataclass
class Head:
    event_id: str | None  # None: a record row's head, not looked up yet
    vv: dict[str, int]
    hlc: int
    origin_node_id: str
    deleted: bool
    state: dict[str, Any] | None = None  # post-state, when known (None when deleted)
    pre_state: dict[str, Any] | None = None  # for a delete: the state it removed
    user_id: str | None = None
    loaded: bool = True  # False: state/pre_state must be read from the event

    @property
    def rank(self) -> tuple[int, str]:
        return (self.hlc, self.origin_node_id)


def head_of(event: ChangeEvent) -> Head:
    return Head(event.event_id, dict(event.vv_after), event.hlc, event.origin_node_id,
                event.post_state is None, event.post_state, event.pre_state, event.user_id)


def contains(big: dict[str, int], small: dict[str, int]) -> bool:
    return vv.compare(small, big) in (vv.Order.BEFORE, vv.Order.EQUAL)


def merged(heads: Sequence[Head]) -> dict[str, int]:
    if len(heads) == 1:  # the usual case
        return dict(heads[0].vv)
    out: dict[str, int] = {}
    for head in heads:
        out = vv.merge(out, head.vv)
    return out


def advance(heads: list[Head], new: Head) -> list[Head] | None:
    """The heads once `new` has arrived, or None when the record already contains it
    (a version that one head has seen is below the merge of the heads, and conversely,
    because an event's own dot names it alone)."""
    if heads and contains(merged(heads), new.vv):
        return None
    return [h for h in heads if not contains(new.vv, h.vv)] + [new]


def winner(heads: list[Head]) -> Head:
    """The provisional winner: the same on every node, as lww requires."""
    return max(heads, key=lambda h: h.rank)


def is_collision(heads: list[Head]) -> bool:
    """Concurrent heads that disagree. Concurrent deletes agree: nothing to resolve."""
    return len(heads) > 1 and not all(h.deleted for h in heads)
