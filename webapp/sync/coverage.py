"""Serving batches that end at signed points. An origin signs the last event of each
of its transactions; a puller accepts an origin's events only up to a signature of that
origin (the hash chain covers the events before it). So a served batch should not end
in the middle of a keyed origin's transaction: it is extended (by at most
protocol.COVER_SLACK events) to that origin's next signature, and a size cut is made
only where every keyed origin in the batch is covered."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ..audit import store
from ..audit.events import ChangeEvent
from .protocol import COVER_SLACK


def uncovered(events: Sequence[ChangeEvent], keyed: set[str]) -> set[str]:
    """The keyed origins whose last event in `events` carries no signature."""
    last: dict[str, ChangeEvent] = {}
    for event in events:
        if event.origin_node_id in keyed:
            last[event.origin_node_id] = event
    return {origin for origin, event in last.items() if event.signature is None}


def end_at_signed_points(session: Session, events: list[ChangeEvent],
                         keyed: set[str]) -> list[ChangeEvent]:
    pending = uncovered(events, keyed)
    if not pending:
        return events
    extra = store.events_after(session, int(events[-1].seq or 0), COVER_SLACK)
    for index, event in enumerate(extra):
        if event.origin_node_id in keyed:
            if event.signature is None:
                pending.add(event.origin_node_id)
            else:
                pending.discard(event.origin_node_id)
        if not pending:
            return events + extra[:index + 1]
    return events  # no signature near: the puller says which origin is not covered


def covered_at(events: Sequence[ChangeEvent], count: int, keyed: set[str]) -> bool:
    """Whether the first `count` events end at a signed point of every keyed origin."""
    return not uncovered(events[:count], keyed)
