"""A reference model of per-field merging, written plainly and apart from the core: the
state of a record is that of its greatest events (by version vector) merged field by
field against the state of what they all have seen. Tests compare every node with it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from webapp.audit.events import ChangeEvent


def _le(a: dict[str, int], b: dict[str, int]) -> bool:
    return all(b.get(k, 0) >= v for k, v in a.items())


def _greatest(events: list[ChangeEvent]) -> list[ChangeEvent]:
    return [e for e in events
            if not any(o is not e and _le(e.vv_after, o.vv_after) for o in events)]


def _seen(events: list[ChangeEvent], at: dict[str, int]) -> list[ChangeEvent]:
    return [e for e in events if _le(e.vv_after, at)]


def expected(events: list[ChangeEvent]) -> tuple[dict[str, Any] | None, list[str]]:
    """(state, disputed fields) of one record from all of its events."""
    tops = _greatest(events)
    if len(tops) == 1:
        return tops[0].post_state, []
    rank = sorted(tops, key=lambda e: (e.hlc, e.origin_node_id, e.event_id), reverse=True)
    if rank[0].post_state is None:
        return None, []
    live = [e for e in rank if e.post_state is not None]  # a lower-ranked delete takes no part
    common = {k: min(e.vv_after.get(k, 0) for e in live) for k in live[0].vv_after}
    if len(live) == 1:
        return live[0].post_state, []
    ancestor, _ = expected(_seen(events, common)) if _seen(events, common) else (None, [])
    ancestor = ancestor or {}
    state, disputed = {}, []
    for name in live[0].post_state:  # type: ignore[union-attr]
        if isinstance(ancestor.get(name), Candidates):  # lww's pick in a criss-cross
            state[name] = Candidates(e.post_state[name] for e in live)  # type: ignore[index]
            continue
        changed = [e.post_state[name] for e in live  # type: ignore[index]
                   if repr(e.post_state[name]) != repr(ancestor.get(name, KeyError))]  # type: ignore[index]
        state[name] = changed[0] if changed else ancestor.get(name)
        if len({repr(v) for v in changed}) > 1:
            disputed.append(name)
            state[name] = Candidates(changed)  # which one lww takes is the unit tests' job
    return state, sorted(disputed)


class Candidates(list):  # type: ignore[type-arg]
    """A disputed field: the node's value must be one of these."""


def by_record(events: list[ChangeEvent]) -> dict[tuple[str, str], list[ChangeEvent]]:
    grouped: dict[tuple[str, str], list[ChangeEvent]] = defaultdict(list)
    for event in events:
        grouped[(event.entity, event.record_id)].append(event)
    return grouped
