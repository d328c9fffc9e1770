"""The change event: the immutable record of one committed command."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from . import canonical
from .hlc import to_datetime


class Op:
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    ALL = (CREATED, UPDATED, DELETED)


@dataclass(frozen=True)
class ChangeEvent:
    event_id: str
    origin_node_id: str
    hlc: int
    entity: str
    record_id: str
    op: str
    params: dict[str, Any]
    pre_state: dict[str, Any] | None
    post_state: dict[str, Any] | None
    vv_before: dict[str, int]
    vv_after: dict[str, int]
    schema_version: int
    idempotency_key: str
    user_id: str | None = None
    request_id: str | None = None
    client_ip: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    seq: int | None = None  # node-local; None until stored
    # The origin's Ed25519 signature over (origin, hash), hex: on the last event of each
    # origin transaction (keys.py); relays keep it. Not content: it seals the hash.
    signature: str | None = None

    @property
    def wall_time(self) -> datetime:
        """Wall time as the origin's clock saw it, derived from the HLC."""
        return to_datetime(self.hlc)

    @property
    def order_key(self) -> tuple[int, str, str]:
        """The timeline order, total and the same on every node."""
        return (self.hlc, self.origin_node_id, self.event_id)

    def content(self) -> dict[str, Any]:
        """Everything the origin decided: what the hash covers and what peers receive.
        A shallow copy (asdict's deep copy cost half a batch's time): the nested
        documents are the event's own, and an event is never changed."""
        doc = dict(self.__dict__)  # a C-level copy: this runs for every event sealed or sent
        for name in _NOT_CONTENT:
            del doc[name]
        return doc

    def chained_hash(self, prev_hash: str) -> str:
        return canonical.sha256_hex(prev_hash, canonical.dumps(self.content()))

    @classmethod
    def sealed(cls, content: dict[str, Any], prev_hash: str, seq: int | None) -> ChangeEvent:
        """The event with `content` (every field of content(), no more), linked to
        prev_hash: hashed as chained_hash would, but built once, not twice."""
        if content.keys() != _CONTENT_KEYS:
            raise TypeError(f"event content needs exactly the fields {sorted(_CONTENT_KEYS)}")
        digest = canonical.sha256_hex(prev_hash, canonical.dumps(content))
        return cls(**content, prev_hash=prev_hash, hash=digest, seq=seq)

    def to_row(self) -> dict[str, Any]:
        row = dict(self.__dict__)  # every field is a column
        for key in DOCUMENTS:
            if row[key] is not None:
                row[key] = canonical.dumps(row[key])
        return row

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ChangeEvent:
        doc = dict(row)
        for key in DOCUMENTS:
            doc[key] = canonical.loads(doc[key])
        if doc.keys() != _FIELD_NAMES:
            return cls(**doc)  # names the missing or unexpected column
        # Every field given, as stored: filled in at once. The frozen dataclass's __init__
        # sets its 26 fields one object.__setattr__ at a time, as long as decoding the
        # documents (a timeline page reads 50 events, a sync batch thousands).
        event = object.__new__(cls)
        event.__dict__.update(doc)
        return event


# The fields stored as canonical JSON text.
DOCUMENTS = ("params", "pre_state", "post_state", "vv_before", "vv_after", "meta")
_NOT_CONTENT = ("seq", "hash", "prev_hash", "signature")
CONTENT = tuple(f.name for f in fields(ChangeEvent) if f.name not in _NOT_CONTENT)
_CONTENT_KEYS = frozenset(CONTENT)
_FIELD_NAMES = frozenset(f.name for f in fields(ChangeEvent))
