"""What replication reports and shows: the outcome of a batch, and conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Conflict kinds and statuses, as stored.
CONCURRENT_UPDATE = "concurrent_update"
UPDATE_DELETE = "update_delete"
UNIQUE_COLLISION = "unique_collision"
OPEN = "open"  # manual policy (or any unique collision): waits for an admin
AUTO = "auto"  # lww policy: settled by the rule, kept so timelines can mark the loser
MERGED = "merged"  # concurrent edits of different fields: merged, nothing to decide
RESOLVED = "resolved"  # closed by an event that dominates every side
SUPERSEDED = "superseded"  # grew into a larger collision (see superseded_by)


@dataclass(frozen=True)
class ApplyReport:
    applied: int = 0  # events whose state became (part of) the record's state
    skipped: int = 0  # already known, or already contained in the local state
    conflicts: int = 0  # events that arrived concurrent with a local version (merged)
    parked: int = 0  # events now waiting for a record they refer to
    released: int = 0  # parked events applied in this batch


@dataclass(frozen=True)
class Side:
    event_id: str
    record_id: str
    origin_node_id: str
    hlc: int
    state: dict[str, Any] | None  # None: this side deleted the record
    vv: dict[str, int]
    user_id: str | None = None
    op: str = ""
    fields: tuple[str, ...] = ()  # the fields this side changed since the common ancestor
    lost: tuple[str, ...] = ()  # of those, the disputed ones whose value the record did not take


@dataclass(frozen=True)
class Conflict:
    conflict_id: str
    entity: str
    record_id: str  # the record to fix (for a unique collision: the first loser)
    kind: str
    status: str
    sides: list[Side] = field(default_factory=list)
    ancestor: dict[str, Any] | None = None  # common ancestor state, when known here
    winner_event_id: str = ""  # the provisional winner every node applied
    opened_hlc: int = 0  # the newest side's HLC: the same on every node
    resolved_event_id: str | None = None
    resolved_by: str | None = None
    resolved_hlc: int | None = None
    superseded_by: str | None = None
    field: str | None = None  # unique collisions: the field and the contested value
    value: Any = None
    version: int = 0  # record_id's version while open: resolve with it as expected_version
    disputed: tuple[str, ...] | None = None  # fields changed to different values (record
    # conflicts; None where not known, as in conflicts recorded before field merges)
