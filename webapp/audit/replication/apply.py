"""Replicator: applies a batch pulled from one peer's log in one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..entity import Registry
from ..events import ChangeEvent
from ..hlc import HybridClock
from .models import ApplyReport


class Replicator:
    def __init__(self, registry: Registry, clock: HybridClock, node_id: str) -> None:
        self.registry = registry
        self.clock = clock
        self.node_id = node_id

    def apply_batch(self, session: Session, source_node_id: str, events: list[ChangeEvent],
                    source_seq: int) -> ApplyReport:
        """Apply events pulled from source's log (in that log's seq order) and move the
        cursor for source_node_id to source_seq, in ONE transaction. On any
        ReplicationError nothing of the batch is applied and the cursor stays."""
        raise NotImplementedError

    def cursor(self, session: Session, source_node_id: str) -> int:
        """The last seq of source_node_id's log applied here (0 before any)."""
        raise NotImplementedError
