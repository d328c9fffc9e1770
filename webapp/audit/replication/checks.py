"""Checks a batch passes before any of it is applied: every event names a known entity
and schema, carries the hash of its content, a clock within the drift bound, and states
that fit the entity's columns. The first failure names its event; nothing is applied."""

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
from .wire import MAX_TEXT, hash_matches


def check_batch(registry: Registry, clock: HybridClock,
                events: Sequence[ChangeEvent]) -> list[ChangeEvent]:
    """The events upcast to their entities' current schemas, once all pass."""
    current = []
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
    return current


def check_state(entity: Entity, event: ChangeEvent, index: int,
                state: dict[str, Any] | None) -> None:
    """A (current-schema) state must hold exactly the entity's fields, each fitting its
    column, or inserting it would fail half-way with a database error."""
    if state is None:
        return
    expected = {"id", *entity.fields}
    if set(state) != expected:
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
    return f"is longer than {length} characters" if len(value) > length else None


@cache
def _length(param: Any) -> int:
    return int(getattr(param.column_type(), "length", None) or MAX_TEXT)
