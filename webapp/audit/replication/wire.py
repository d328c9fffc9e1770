"""Change events on the wire: JSON-safe documents, strictly checked on the way in.

A peer may be buggy or hostile, so every field is checked for type, size and range
before anything else looks at it, and the hash is checked against the content. The
bounds are the ones local commands are held to (meta, context, idempotency key); how
long a text may be depends on its entity's fields, so checks.py bounds texts."""

from __future__ import annotations

import re
import weakref
from dataclasses import fields
from typing import Any

from .. import hlc, vv
from ..commands import IDEMPOTENCY_KEY, check_meta
from ..context import FIELD_WIDTHS
from ..errors import HLCFormatError, ParamsError
from ..events import ChangeEvent, Op
from ..ids import is_ulid
from .errors import PayloadError, TamperedEventError

MAX_KEYS = 200  # most keys in params or a state
MAX_VV = 1_000  # most nodes in a version vector
MAX_COUNTER = 2**53  # most changes one node may have made to one record
_HASH = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{128}$")
_ENTITY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
WIRE_FIELDS = frozenset(f.name for f in fields(ChangeEvent)) - {"seq"}
OPTIONAL_FIELDS = frozenset({"signature"})  # absent: an event made before its origin had a key


def event_to_wire(event: ChangeEvent) -> dict[str, Any]:
    """Everything the origin decided, plus its hash chain link; never the local seq."""
    doc = event.content()
    doc.update(prev_hash=event.prev_hash, hash=event.hash, signature=event.signature)
    return doc


def event_from_wire(doc: object) -> ChangeEvent:
    if not isinstance(doc, dict):
        raise PayloadError(f"an event is a JSON object, got {type(doc).__name__}")
    event_id = doc.get("event_id")
    named = event_id if is_ulid(event_id) else None
    try:
        event = _build(doc)
    except PayloadError as exc:
        raise PayloadError(str(exc), named) from None
    if event.chained_hash(event.prev_hash) != event.hash:
        raise TamperedEventError("its hash does not match its content", event.event_id)
    _VERIFIED[id(event)] = event
    return event


# Events whose hash event_from_wire has just checked, so apply_batch need not hash them
# again. Keyed by id(), holding the event weakly: an id reused by another object after
# the event is gone finds nothing, and a frozen event cannot change after its check.
_VERIFIED: weakref.WeakValueDictionary[int, ChangeEvent] = weakref.WeakValueDictionary()


def hash_matches(event: ChangeEvent) -> bool:
    if _VERIFIED.get(id(event)) is event:
        return True
    return event.chained_hash(event.prev_hash) == event.hash


def _build(doc: dict[Any, Any]) -> ChangeEvent:
    unknown = sorted(str(k)[:40] for k in doc if k not in WIRE_FIELDS)
    missing = sorted(WIRE_FIELDS - OPTIONAL_FIELDS - set(doc))
    if unknown or missing:
        raise PayloadError(f"unknown fields {unknown}, missing fields {missing}")
    for name in ("event_id", "origin_node_id", "record_id"):
        if not is_ulid(doc[name]):
            raise PayloadError(f"{name} is not a ULID")
    try:
        hlc.validate(doc["hlc"])
    except HLCFormatError as exc:
        raise PayloadError(f"hlc: {exc}") from None
    if not isinstance(doc["entity"], str) or not _ENTITY.fullmatch(doc["entity"]):
        raise PayloadError("entity is not an entity name")
    if doc["op"] not in Op.ALL:
        raise PayloadError(f"op must be one of {', '.join(Op.ALL)}")
    _document("params", doc["params"])
    _meta(doc["meta"])
    for name in ("pre_state", "post_state"):
        if doc[name] is not None:
            _document(name, doc[name])
            if doc[name].get("id") != doc["record_id"]:
                raise PayloadError(f"{name}.id is not the event's record_id")
    if (doc["op"] == Op.DELETED) != (doc["post_state"] is None):
        raise PayloadError("post_state must be null exactly when op is deleted")
    _version_vectors(doc["vv_before"], doc["vv_after"], doc["origin_node_id"])
    version = doc["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 10_000:
        raise PayloadError("schema_version must be an integer from 1 to 10000")
    key = doc["idempotency_key"]
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        raise PayloadError("idempotency_key must be 1 to 100 printable characters")
    for name, size in FIELD_WIDTHS.items():
        value = doc[name]
        if value is not None and (not isinstance(value, str) or len(value) > size):
            raise PayloadError(f"{name} must be null or text of at most {size} characters")
    for name in ("prev_hash", "hash"):
        if not isinstance(doc[name], str) or not _HASH.fullmatch(doc[name]):
            raise PayloadError(f"{name} must be 64 lowercase hex digits")
    signature = doc.get("signature")
    if signature is not None and (not isinstance(signature, str)
                                  or not _SIGNATURE.fullmatch(signature)):
        raise PayloadError("signature must be null or 128 lowercase hex digits")
    return ChangeEvent(**doc)


def _meta(value: object) -> None:
    if not isinstance(value, dict):
        raise PayloadError("meta must be a JSON object")
    if not value:
        return  # most events carry none: no need to measure it as JSON
    try:
        check_meta(value)  # the rule every local command's meta passed
    except ParamsError as exc:
        raise PayloadError(f"meta {exc.errors['meta']}") from None


def _document(name: str, value: object) -> None:
    """A flat JSON object of scalars: what params and states are."""
    if not isinstance(value, dict):
        raise PayloadError(f"{name} must be a JSON object")
    if len(value) > MAX_KEYS:
        raise PayloadError(f"{name} has more than {MAX_KEYS} keys")
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise PayloadError(f"{name} has a key that is not a short string")
        if isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > 2**63:
                raise PayloadError(f"{name}.{key} is out of range")
        elif item is not None and not isinstance(item, str | bool):
            raise PayloadError(f"{name}.{key} must be text, a number, true/false or null")


def _version_vectors(before: object, after: object, origin: str) -> None:
    checked = [_version_vector("vv_before", before), _version_vector("vv_after", after)]
    if vv.bump(checked[0], origin) != checked[1]:
        raise PayloadError("vv_after must be vv_before with the origin's counter plus one")


def _version_vector(name: str, value: object) -> dict[str, int]:
    if not isinstance(value, dict) or len(value) > MAX_VV:
        raise PayloadError(f"{name} must be an object of at most {MAX_VV} entries")
    for node, count in value.items():
        if not is_ulid(node):
            raise PayloadError(f"{name} has a key that is not a node id")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_COUNTER:
            raise PayloadError(f"{name}[{node}] must be a positive integer")
    return value
