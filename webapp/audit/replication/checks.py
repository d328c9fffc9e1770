"""Checks a batch passes before any of it is applied: every event names a known entity
and schema, carries the hash of its content, a clock within the drift bound, and texts
that fit the entity's declared fields. The first failure names its event; nothing is
applied. Every bound here comes from the entity's declaration, the same the local
commands are held to, so an event a node accepted from its own user never stops a sync."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from ..entity import Entity, Registry
from ..errors import ClockDriftError, UnknownEntityError
from ..events import ChangeEvent
from ..hlc import HybridClock
from ..ids import is_ulid
from ..params import Boolean, Integer, Ref
from ..store import upcast
from .errors import (
    EventClockDriftError,
    EventUnknownEntityError,
    PayloadError,
    SchemaVersionError,
    TamperedEventError,
)
from .wire import hash_matches


def check_batch(registry: Registry, clock: HybridClock,
                events: Sequence[ChangeEvent]) -> list[ChangeEvent]:
    """The events upcast to their entities' current schemas, once all pass."""
    current = []
    longest: dict[str, int | None] = {}  # entity name -> _longest(entity), once per batch
    for index, event in enumerate(events):
        if not all(map(is_ulid, (event.event_id, event.origin_node_id, event.record_id))):
            raise PayloadError("its ids must be ULIDs", None, index)
        try:
            entity = registry.get(event.entity)
        except UnknownEntityError as exc:
            raise EventUnknownEntityError(str(exc), event.event_id, index) from None
        if event.schema_version > entity.schema_version:
            raise SchemaVersionError(
                f"{entity.name} schema version {event.schema_version} is newer than this "
                f"node's ({entity.schema_version}); upgrade this node first",
                event.event_id, index)
        if not hash_matches(event):
            raise TamperedEventError("its hash does not match its content", event.event_id,
                                     index)
        try:
            clock.check(event.hlc)
        except ClockDriftError as exc:
            raise EventClockDriftError(str(exc), event.event_id, index) from None
        current.append(upcast(registry, event))
        check_state(entity, event, index, current[-1].post_state)
        if entity.name not in longest:
            longest[entity.name] = _longest(entity)
        _check_texts(event, index, current[-1], longest[entity.name])
    return current


def check_state(entity: Entity, event: ChangeEvent, index: int,
                state: dict[str, Any] | None) -> None:
    """A (current-schema) state must hold exactly the entity's fields, each fitting its
    declaration, or storing it would fail half-way or make a record no command could."""
    if state is None:
        return
    expected = entity.state_keys
    if state.keys() != expected:
        raise PayloadError(f"its state does not have the fields of {entity.name}: "
                           f"{sorted(set(state) ^ expected)[:10]}", event.event_id, index)
    for name, param in entity.fields.items():
        problem = _problem(param, state[name])
        if problem:
            raise PayloadError(f"{entity.name}.{name} {problem}", event.event_id, index)


def _problem(param: Any, value: Any) -> str | None:
    if value is None:
        return "is required" if param.required and not isinstance(param, Boolean) else None
    if isinstance(param, Boolean):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(param, Integer):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok and param.min_value <= value <= param.max_value else "is out of range"
    if not isinstance(value, str):
        return "must be text"
    if isinstance(param, Ref) and not is_ulid(value):
        return "must be a record id"
    length = _length(param)
    return f"is longer than {length} characters" if length and len(value) > length else None


def _check_texts(event: ChangeEvent, index: int, now: ChangeEvent, longest: int | None) -> None:
    """No text in the (current-schema) params or pre-state may be longer than the longest
    text the entity accepts: the bound on what a peer may make this node store."""
    if longest is None:
        return
    for name, doc in (("params", now.params), ("pre_state", now.pre_state)):
        for key, value in (doc or {}).items():
            if isinstance(value, str) and len(value) > longest:
                raise PayloadError(f"{name}.{key} is longer than {longest} characters",
                                   event.event_id, index)


def _longest(entity: Entity) -> int | None:
    """The longest text a field of the entity accepts (or the record id, a ULID); None
    when a field has no bound."""
    bounds = [_length(p) for p in entity.fields.values() if not isinstance(p, Boolean | Integer)]
    known = [b for b in bounds if b is not None]
    return max([26, *known]) if len(known) == len(bounds) else None  # 26: a ULID


@cache
def _length(param: Any) -> int | None:
    """The longest text a field accepts, as declared (a Text may be longer than any
    fixed-size column), else as its column holds; None: no bound."""
    declared = getattr(param, "max_length", None) or getattr(param.column_type(), "length", None)
    return int(declared) if declared else None
