"""A record's history: its events by dot, from which any node computes the same state
for any version vector, and where each field's value came from.

An event's dot is (its origin, its origin's counter in its vector after it): one event
per dot. What a vector V has seen is every event whose dot it counts; its greatest
events are among the events at (o, V[o]), because an origin's own events on a record
follow one another. One greatest event: the state is its post-state. Several: they are
concurrent, and their states merge field by field against the state at their meet.

After compaction (or a bootstrap) the record's early events are gone; its base event,
the last removed one, stays whole (compaction/tables.py): it has seen every removed
event, and every node has seen it. A dot the history lacks within the base's vector is
one of those removed events, so the base stands for it: a late concurrent edit made on
a version at or after the base finds its common ancestor there, not in nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..events import ChangeEvent
from .errors import AncestorCompactedError
from .heads import Head, contains, head_of, winner
from .merge import Merged, Version, merge, same

Vector = Mapping[str, int]
# (a vector, {field: id of the event that set it as that vector has it})
KnownSources = tuple[Vector, Mapping[str, str]]


def same_vector(a: Vector, b: Vector) -> bool:
    """Equal vectors, a node counted 0 being the same as one not named."""
    return {n: c for n, c in a.items() if c} == {n: c for n, c in b.items() if c}


def meet(vectors: Sequence[Vector]) -> dict[str, int]:
    """What every vector has seen: the element-wise minimum."""
    common = set(vectors[0]).intersection(*vectors[1:])
    return {n: min(v[n] for v in vectors) for n in sorted(common) if all(v[n] for v in vectors)}


def version(head: Head) -> Version:
    return Version(head.event_id or "", head.hlc, head.origin_node_id,
                   None if head.deleted else head.state)


def changed_fields(event: ChangeEvent) -> list[str]:
    """The fields an event set: all of a created record's, those an update changed."""
    after = event.post_state or {}
    before = event.pre_state
    if before is None:
        return [k for k in after if k != "id"]
    return [k for k in after if k != "id" and not same(before.get(k), after[k])]


@dataclass(frozen=True)
class Stub:
    """An event as far as causality goes: enough to find the greatest events of any
    vector without reading (and decoding) every state of a long history."""

    event_id: str
    origin_node_id: str
    hlc: int
    vv_before: dict[str, int]
    vv_after: dict[str, int]


Known = Stub | ChangeEvent
Loader = Callable[[list[str]], Iterable[ChangeEvent]]  # event ids -> those events


class History:
    def __init__(self, events: Iterable[Known], load: Loader | None = None,
                 base: ChangeEvent | None = None) -> None:
        """`events`: all of the record's, whole or as stubs; `load` reads whole events
        for stubs when their states are needed (see need()); `base`: the record's base
        event when its history was compacted (not in `events`)."""
        self.base = base
        self.by_dot: dict[tuple[str, int], Known] = {}
        self._whole: dict[str, ChangeEvent] = {}
        for event in events:
            self.by_dot[(event.origin_node_id, event.vv_after.get(event.origin_node_id, 0))] = event
            if isinstance(event, ChangeEvent):
                self._whole[event.event_id] = event
        self._load = load
        self._states: dict[tuple[tuple[str, int], ...], dict[str, Any] | None] = {}
        self._settled: list[tuple[list[Known], Known]] | None = None
        self._ids: dict[str, Known] | None = None

    def event(self, known: Known) -> ChangeEvent:
        """The whole event (read now if only its stub is here)."""
        if isinstance(known, ChangeEvent):
            return known
        if known.event_id not in self._whole:
            self.add(self._read([known.event_id]))
        return self._whole[known.event_id]

    def add(self, events: Iterable[ChangeEvent]) -> None:
        for event in events:
            self._whole[event.event_id] = event

    def missing(self, known: Iterable[Known]) -> list[str]:
        return [k.event_id for k in known if k.event_id not in self._whole]

    def need_for_merge(self, vectors: Sequence[Vector]) -> list[str]:
        """Ids of the events a merge of versions with these vectors reads first (the
        greatest events of their meet), not read yet: to read many records' at once."""
        return self.missing(self.greatest(meet(vectors)) or [])

    def _read(self, ids: list[str]) -> Iterable[ChangeEvent]:
        if self._load is None:
            raise LookupError(f"events {ids} are not loaded")
        return self._load(ids)

    def greatest(self, at: Vector) -> list[Known] | None:
        """The events `at` has seen that no other it has seen follows; None when one
        of them is not here (never received, or compacted away)."""
        found: list[Known] = []
        for origin, count in at.items():
            if count > 0:
                event = self.by_dot.get((origin, count))
                if event is None:
                    event = self._compacted(at, origin, count)
                    if event is None:
                        return None
                if not any(e is event for e in found):
                    found.append(event)
        return [e for e in found
                if not any(o is not e and contains(o.vv_after, e.vv_after) for o in found)]

    def _compacted(self, at: Vector, origin: str, count: int) -> ChangeEvent | None:
        """The base, standing for a removed event it has seen, when `at` has seen the
        base too (None otherwise: a version from before the base is not known here)."""
        base = self.base
        if base is not None and count <= base.vv_after.get(origin, 0) \
                and contains(dict(at), base.vv_after):
            return base
        return None

    def _before(self, at: Vector) -> dict[str, Any] | None:
        """The state at a version older than the base (a node that was away, coming back
        with edits made on it): the pre-state of an event written on exactly that
        version (the base among them), which its writer signed; the first such by
        (hlc, event id), so every node takes the same. AncestorCompactedError when none
        was: merging against nothing would count every field as changed on both sides,
        and lww would undo one side's changes."""
        wanted = {n: c for n, c in at.items() if c}
        found = [k for k in (*self.by_dot.values(), self.base) if k is not None
                 and {n: c for n, c in k.vv_before.items() if c} == wanted]
        if not found:
            base = self.base
            assert base is not None  # only asked when the record has one
            raise AncestorCompactedError(
                f"{base.entity} {base.record_id}: a concurrent edit needs the record as it "
                f"was at version {wanted}, older than its base, and that ancestor was "
                "compacted on this node (no event here was written on it): refused rather "
                "than merged against nothing; it applies once an event written on that "
                "version arrives (sync the node that wrote the edit's predecessor), or "
                "bootstrap from a peer that has it")
        first = min(found, key=lambda k: (k.hlc, k.event_id))
        return self.event(first).pre_state

    def settlements(self) -> list[tuple[list[Known], Known]]:
        """Every collision an event was written on (the several greatest events of what
        its writer had seen), with the first such event by (hlc, event id): what settled
        it on every node, whatever order the events came in. Sorted by the sides' ids."""
        if self._settled is not None:
            return self._settled
        first: dict[tuple[str, ...], tuple[list[Known], Known]] = {}
        for event in self.by_dot.values():
            sides = self.greatest(event.vv_before) if event.vv_before else None
            if sides and len(sides) > 1:
                key = tuple(sorted(e.event_id for e in sides))
                if key not in first or (event.hlc, event.event_id) < (first[key][1].hlc,
                                                                      first[key][1].event_id):
                    first[key] = (sides, event)
        self._settled = [first[key] for key in sorted(first)]
        return self._settled

    def state_at(self, at: Vector) -> dict[str, Any] | None:
        """The record as `at` has it (None: not created yet, deleted, or unknown here)."""
        key = tuple(sorted((n, c) for n, c in at.items() if c))
        if key not in self._states:
            events = self.greatest(at)
            if events is None and self.base is not None:
                self._states[key] = self._before(at)
            elif not events:
                self._states[key] = None
            elif len(events) == 1:
                self._states[key] = self.event(events[0]).post_state
            else:
                self._states[key] = self.merge([head_of(self.event(e)) for e in events]).state
        return self._states[key]

    def merge(self, heads: Sequence[Head]) -> Merged:
        """The concurrent `heads` (states loaded) merged: deleted when the greatest one
        deleted the record, else the live ones against the state at what they all had
        seen (a lower-ranked delete takes no part, so it cannot move the ancestor)."""
        if winner(list(heads)).deleted:
            return Merged(None)
        live = [h for h in heads if not h.deleted]
        ancestor = self.state_at(meet([h.vv for h in live])) if len(live) > 1 else None
        vectors = {h.event_id or "": h.vv for h in live}

        def change_rank(side: Version, name: str) -> tuple[int, str, str]:
            """The change on this side that set the field (it may be older than the
            side's own event): lww compares those, not the sides."""
            found = self.sources(vectors[side.event_id], [name]).get(name)
            event = self._by_id().get(found or "")
            return (event.hlc, event.origin_node_id, event.event_id) if event else side.rank

        return merge(ancestor, [version(h) for h in live], change_rank)

    def _by_id(self) -> dict[str, Known]:
        if self._ids is None:  # built once: lww asks it for every disputed field
            self._ids = {k.event_id: k for k in self.by_dot.values()}
        return self._ids

    def sources(self, at: Vector, wanted: Iterable[str],
                known: KnownSources | None = None) -> dict[str, str]:
        """For each wanted field, the id of the event that set its value as `at` has it
        (a field no event here set is left out). `known`: what an earlier call answered
        for some vector (events never change, so its answer still holds); the walk back
        stops there instead of reading the older events again."""
        out: dict[str, str] = {}
        todo = set(wanted)
        while todo:
            if known is not None and same_vector(at, known[0]):
                out.update({name: known[1][name] for name in todo if name in known[1]})
                return out
            events = self.greatest(at)
            if not events:
                return out
            if len(events) > 1:
                merged = self.merge([head_of(self.event(e)) for e in events])
                by_id = {e.event_id: e for e in events}
                for name in sorted(todo & merged.source.keys()):
                    side = by_id[merged.source[name]]
                    out.update(self.sources(side.vv_after, [name], known))
                todo -= merged.source.keys()
                at = meet([e.vv_after for e in events])
                continue
            event = self.event(events[0])
            if event.post_state is None or event is self.base:  # before it: compacted
                return out
            for name in set(changed_fields(event)) & todo:
                out[name] = event.event_id
            todo -= set(changed_fields(event))
            at = event.vv_before
        return out
