"""Replication: apply events pulled from peers, causally and idempotently, and keep the
conflicts that need an admin. Pure SQLAlchemy; the sync protocol is built on top."""

from . import (
    hooks,  # noqa: F401  (local commands settle replication state)
    tables,  # noqa: F401  (declares the tables on the core metadata)
)
from .apply import Replicator
from .errors import (
    ConflictClosedError,
    ConflictNotFoundError,
    EventClockDriftError,
    EventUnknownEntityError,
    PayloadError,
    ReplicationError,
    SchemaVersionError,
    TamperedEventError,
)
from .models import ApplyReport, Conflict, Side
from .queries import get_conflict, list_conflicts, open_conflict_ids_for_events
from .resolve import resolve_conflict
from .wire import event_from_wire, event_to_wire

__all__ = [
    "ApplyReport", "Conflict", "ConflictClosedError", "ConflictNotFoundError",
    "EventClockDriftError", "EventUnknownEntityError", "PayloadError", "ReplicationError",
    "Replicator", "SchemaVersionError", "Side", "TamperedEventError", "event_from_wire",
    "event_to_wire", "get_conflict", "list_conflicts", "open_conflict_ids_for_events",
    "resolve_conflict",
]
