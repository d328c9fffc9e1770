"""Field-by-field merge of concurrent versions of one record, against their common
ancestor (SPEC 6): a field changed on one side takes that side's value; a field changed
on several sides to the same value takes it; only a field changed on several sides to
different values is disputed, and its provisional value is that of the changing side
with the greatest (hlc, origin_node_id), as lww wants and manual shows until an admin
decides. The result depends on the set of sides only, never on their order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_ABSENT = object()  # a field a state does not have (added by a later schema, say)


@dataclass(frozen=True)
class Version:
    """One side: an event's version of the record (state None: it deleted it)."""

    event_id: str
    hlc: int
    origin_node_id: str
    state: Mapping[str, Any] | None

    @property
    def rank(self) -> tuple[int, str, str]:
        return (self.hlc, self.origin_node_id, self.event_id)


@dataclass(frozen=True)
class Merged:
    state: dict[str, Any] | None  # None when the greatest side deleted the record
    disputed: tuple[str, ...] = ()  # sorted: fields changed to different values
    changed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # event id -> fields
    source: dict[str, str] = field(default_factory=dict)  # field -> event id it came from
    lost: dict[str, tuple[str, ...]] = field(default_factory=dict)  # event id -> fields
    # whose value (a disputed field's) is not the one the record took


def same(a: Any, b: Any) -> bool:
    """Equal as stored values: True is not 1, and 1 is not 1.0."""
    return type(a) is type(b) and a == b


Rank = tuple[int, str, str]  # (hlc, origin node id, event id): the order of changes


def merge(ancestor: Mapping[str, Any] | None, sides: Sequence[Version],
          change_rank: Callable[[Version, str], Rank] | None = None) -> Merged:
    """Merge `sides` (pairwise concurrent versions) against `ancestor`, the state of
    what they all have seen (None: no common state, so every value counts as changed).
    When the greatest side deleted the record, the record is deleted (an update against
    a delete is a conflict of its own, settled by rank); else the live sides merge.
    A disputed field takes the value of the greatest change to it: change_rank(side,
    field) ranks the change on that side that set the field (by default, the side)."""
    ordered = sorted(sides, key=lambda s: s.rank, reverse=True)  # greatest first
    if not ordered or ordered[0].state is None:
        return Merged(None)
    live = [s for s in ordered if s.state is not None]
    base = ancestor or {}
    names = [k for k in ordered[0].state if k != "id"]
    names += sorted({k for s in live for k in s.state or {} if k not in ordered[0].state})
    state: dict[str, Any] = {"id": ordered[0].state.get("id")}
    disputed: list[str] = []
    changed: dict[str, list[str]] = {s.event_id: [] for s in live}
    source: dict[str, str] = {}
    lost: dict[str, list[str]] = {s.event_id: [] for s in live}
    for name in names:
        old = base.get(name, _ABSENT)
        changers = [s for s in live if not same((s.state or {}).get(name, _ABSENT), old)]
        for side in changers:
            changed[side.event_id].append(name)
        value = old  # nobody changed it: every side still has the ancestor's value
        if changers:
            first = changers[0]
            if change_rank is not None and any(
                    not same(s.state.get(name), first.state.get(name)) for s in changers):  # type: ignore[union-attr]
                first = max(changers, key=lambda s: change_rank(s, name))
            value = first.state.get(name, _ABSENT)  # type: ignore[union-attr]
            source[name] = first.event_id
            losers = [s for s in changers if not same(s.state.get(name, _ABSENT), value)]  # type: ignore[union-attr]
            if losers:
                disputed.append(name)
            for side in losers:
                lost[side.event_id].append(name)
        if value is not _ABSENT:
            state[name] = value
    return Merged(state, tuple(sorted(disputed)),
                  {k: tuple(sorted(v)) for k, v in changed.items()}, source,
                  {k: tuple(sorted(v)) for k, v in lost.items()})
