"""Errors of replication. Each names the offending event, so a sync can say which one
stopped it; the ones that mirror a core error also subclass it (one HTTP mapping)."""

from __future__ import annotations

from ..errors import (
    AuditError,
    ClockDriftError,
    IntegrityRuleError,
    NotFoundError,
    UnknownEntityError,
)


class ReplicationError(AuditError):
    """A remote event (or batch) that cannot be applied; nothing of its batch was."""

    def __init__(self, message: str, event_id: str | None = None, index: int | None = None):
        self.event_id = event_id
        self.index = index  # position of the offending event in its batch
        where = f"event {event_id}: " if event_id else ""
        super().__init__(where + message)


class PayloadError(ReplicationError):
    """A sync payload that is not a well-formed change event (type, size, id, range)."""


class TamperedEventError(PayloadError):
    """The event's hash does not match its content: it was altered after it was made."""


class SchemaVersionError(ReplicationError):
    """The event was written by a newer schema of its entity than this node knows."""


class EventUnknownEntityError(ReplicationError, UnknownEntityError):
    """The event names an entity this node does not have."""


class EventClockDriftError(ReplicationError, ClockDriftError):
    """The event's HLC is further ahead of our wall clock than the allowed drift."""


class ConflictNotFoundError(NotFoundError):
    """No conflict with that id on this node."""


class ConflictClosedError(IntegrityRuleError):
    """The conflict is no longer open (resolved here, elsewhere, or superseded)."""


class AncestorCompactedError(ReplicationError):
    """A merge needs the state at a version older than the record's base that no event
    here was written on (the common ancestor was compacted on this node): refused, never
    merged against nothing (every field would count as changed on both sides)."""
