"""Replication: apply events pulled from peers, causally and idempotently, and keep the
conflicts that need an admin. Pure SQLAlchemy; the sync protocol is built on top.

- Replicator.apply_batch applies a batch of one peer's log and moves that peer's cursor
  in one transaction; a refused event (ReplicationError, naming it) leaves both alone.
- A record's state is a function of the events it has (heads.py, history.py): every node
  that holds the same events shows the same row, vector, tombstone and conflicts.
  Concurrent versions merge field by field against their common ancestor (merge.py).
- Conflicts: a field changed differently on several sides (open for manual entities,
  "auto" for lww ones, so timelines can still mark the loser; a clean merge is kept as
  "merged"), update-against-delete, and unique values taken
  by two records (unique.py: the smaller record id keeps the value, the other is
  suffixed with the tail of its id, and the conflict stays open until an admin acts).
- resolve_conflict(values=None) takes the deleted side; Conflict.version is the
  expected_version a resolution needs while the conflict is open.
"""

from . import (
    chaintables,  # noqa: F401  (declares the chain tables on the core metadata)
    hooks,  # noqa: F401  (local commands settle replication state)
    tables,  # noqa: F401  (declares the tables on the core metadata)
)
from .apply import Replicator
from .chains import ChainBreak, verify_chains
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
from .provenance import field_sources
from .queries import (
    Mark,
    conflict_marks,
    get_conflict,
    list_conflicts,
    open_conflict_ids_for_events,
)
from .resolve import resolve_conflict
from .wire import event_from_wire, event_to_wire

__all__ = [
    "ApplyReport", "ChainBreak", "Conflict", "ConflictClosedError", "ConflictNotFoundError",
    "EventClockDriftError", "EventUnknownEntityError", "Mark", "PayloadError",
    "ReplicationError", "Replicator", "SchemaVersionError", "Side", "TamperedEventError",
    "conflict_marks", "event_from_wire", "event_to_wire", "field_sources", "get_conflict",
    "list_conflicts",
    "open_conflict_ids_for_events", "resolve_conflict", "verify_chains",
]
