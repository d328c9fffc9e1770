"""Checks a batch passes before any of it is applied: every event names a known entity
and schema, carries the hash of its content, a clock within the drift bound, a version
vector its columns hold, and states and params the entity's own params accept (the same
`clean` as local commands: choices, formats, lengths, no control or invisible
characters, a password only as the hash this node writes). The first failure names
its event; nothing is applied. Every bound here comes from the entity's declaration,
the same the local commands are held to, so an event a node accepted from its own user
never stops a sync."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from ..entity import Entity, Registry
from ..errors import ClockDriftError, UnknownEntityError, UpcastError
from ..events import ChangeEvent
from ..hlc import HybridClock
from ..ids import is_ulid
from ..params import Boolean, Integer, Invalid, Param, Password
from ..passwords import is_password_hash
from ..store import upcast
from ..vv import version_of
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
        if version_of(event.vv_after) > MAX_VERSION:
            raise PayloadError("its version vector counts more changes than a 64-bit "
                               "version column holds", event.event_id, index)
        if entity.name not in longest:
            longest[entity.name] = _longest(entity)
        current.append(_current(registry, entity, event, index, longest[entity.name]))
    return current


def check_released(registry: Registry, event: ChangeEvent) -> ChangeEvent:
    """An event held back (parked for a record, or waiting for its chain) and applied
    now, maybe after an upgrade: upcast and held to today's rules as a new one is, so a
    rule tightened meanwhile is a clear refusal, not a failed write."""
    try:
        entity = registry.get(event.entity)
    except UnknownEntityError as exc:
        raise EventUnknownEntityError(str(exc), event.event_id) from None
    return _current(registry, entity, event, None, _longest(entity))


def _current(registry: Registry, entity: Entity, event: ChangeEvent, index: int | None,
             longest: int | None) -> ChangeEvent:
    """The event upcast to the current schema, once its documents pass its checks."""
    try:
        now = upcast(registry, event)
    except UpcastError as exc:
        raise PayloadError(str(exc.on(" on this event")), event.event_id, index) from None
    check_state(entity, event, index, now.post_state)
    check_params(entity, event, index, now.params)
    _check_texts(event, index, now, longest)
    return now


def check_state(entity: Entity, event: ChangeEvent, index: int | None,
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


def check_params(entity: Entity, event: ChangeEvent, index: int | None,
                 params: dict[str, Any]) -> None:
    """What the origin's command asked, as its cleaned params: fields of the entity, each
    a value the entity's params accept as they are."""
    for name, value in params.items():
        param = entity.fields.get(name)
        if param is None:
            raise PayloadError(f"params.{name[:64]} is not a field of {entity.name}",
                               event.event_id, index)
        problem = _problem(param, value)
        if problem:
            raise PayloadError(f"params: {entity.name}.{name} {problem}", event.event_id, index)


MAX_VERSION = 2**63 - 1  # a record's version (the sum of its vector) is a BIGINT


def _problem(param: Param, value: Any) -> str | None:
    """Why a stored value is not one the param's clean returns unchanged, or None."""
    if value is None or (isinstance(value, str) and value == "" and not param.required):
        return "is required" if param.required and not isinstance(param, Boolean) else None
    if isinstance(param, Password):
        return None if is_password_hash(value) else \
            "is not a password hash in the form this node writes"
    try:
        return _as_cleaned(param, type(value).__qualname__, value)
    except TypeError:  # unhashable: never a value a param returns
        return "is not a value this field holds"


@lru_cache(maxsize=4096)
def _as_cleaned(param: Param, kind: str, value: Any) -> str | None:
    """Cached: a batch repeats the same choices, references and addresses. Keyed by the
    value's type too, as True == 1 == 1.0 hash alike; bounded, as peers choose the keys."""
    if isinstance(param, Boolean) and not isinstance(value, bool):
        return "must be true or false"
    try:
        cleaned = param.clean(value)
    except Invalid as exc:
        return str(exc)
    if cleaned != value or type(cleaned) is not type(value):
        return "is not in the form this node stores (not normalised)"
    return None


def _check_texts(event: ChangeEvent, index: int | None, now: ChangeEvent,
                 longest: int | None) -> None:
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
