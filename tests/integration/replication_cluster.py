"""A cluster of nodes for replication tests: each node has its own database, its own
clock, Auditor and Replicator, and pulls from the others' logs through the wire format,
as a sync would. Used by the convergence property test and the scenario tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.support.databases import empty_tables, fresh_engine
from webapp.audit import canonical
from webapp.audit.commands import Command, CommandResult
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import HybridClock
from webapp.audit.node import init_node
from webapp.audit.replication import (
    ApplyReport,
    Replicator,
    event_from_wire,
    event_to_wire,
    list_conflicts,
)
from webapp.audit.replication.tables import parked_events, replication_heads, unique_renames
from webapp.audit.service import Auditor
from webapp.audit.store import events_after
from webapp.audit.tables import change_events, tombstones
from webapp.domain import registry


@dataclass
class Node:
    name: str
    engine: sa.Engine
    session: Session = field(init=False)
    auditor: Auditor = field(init=False)
    replicator: Replicator = field(init=False)

    def start(self) -> None:
        """(Re)start: new session, clock, Auditor and Replicator on the same database."""
        if hasattr(self, "session"):
            self.session.close()
        self.session = Session(self.engine)
        clock = HybridClock()
        node_id = init_node(self.session, self.name, clock)
        self.auditor = Auditor(registry, clock, node_id)
        self.replicator = Replicator(registry, clock, node_id)

    @property
    def node_id(self) -> str:
        return self.auditor.node_id

    def run(self, command: Command) -> CommandResult:
        return self.auditor.execute(self.session, command)

    def log(self, after: int = 0, limit: int = 100_000) -> list[ChangeEvent]:
        events = events_after(self.session, after, limit)
        self.session.rollback()
        return events

    def receive(self, source: Node, events: list[ChangeEvent], upto: int) -> ApplyReport:
        """Apply `events` of `source`'s log, sent through the wire format."""
        docs = [canonical.loads(canonical.dumps(event_to_wire(e))) for e in events]
        return self.replicator.apply_batch(self.session, source.node_id,
                                           [event_from_wire(d) for d in docs], upto)

    def pull(self, source: Node, after: int = 0, limit: int = 100_000) -> ApplyReport:
        events = source.log(after, limit)
        upto = events[-1].seq if events else after
        assert upto is not None
        return self.receive(source, events, upto)

    def snapshot(self) -> dict[str, Any]:
        """Everything that must be equal on nodes that hold the same events."""
        out: dict[str, Any] = {}
        for entity in registry:
            out[entity.name] = self._rows(entity.table, entity.table.c.id)
        out["tombstones"] = self._rows(tombstones, *tombstones.primary_key.columns)
        out["heads"] = self._rows(replication_heads, *replication_heads.primary_key.columns)
        out["renames"] = self._rows(unique_renames, *unique_renames.primary_key.columns)
        out["open_conflicts"] = sorted(
            (c.conflict_id, c.kind, c.entity, c.record_id, c.winner_event_id,
             tuple(sorted(s.event_id for s in c.sides)))
            for c in list_conflicts(self.session, limit=1000))
        self.session.rollback()
        return out

    def event_ids(self) -> set[str]:
        ids = set(self.session.execute(sa.select(change_events.c.event_id)).scalars())
        self.session.rollback()
        return ids

    def parked(self) -> int:
        count = self.session.execute(sa.select(sa.func.count()).select_from(parked_events))
        value = int(count.scalar_one())
        self.session.rollback()
        return value

    def _rows(self, table: sa.Table, *order: Any) -> list[dict[str, Any]]:
        rows = self.session.execute(sa.select(table).order_by(*order)).all()
        return [dict(r._mapping) for r in rows]


class Cluster:
    def __init__(self, backend: str, tmp: Path, size: int, prefix: str = "repl") -> None:
        self.nodes = [Node(f"n{i}", fresh_engine(backend, f"{prefix}{i}", tmp))
                      for i in range(size)]
        for node in self.nodes:
            node.start()

    def reset(self) -> None:
        for node in self.nodes:
            node.session.close()
            empty_tables(node.engine)
            node.start()

    def full_sync(self, rounds: int = 4) -> None:
        """Every node pulls every other node's whole log until nothing new arrives."""
        for _ in range(rounds):
            before = [len(n.event_ids()) for n in self.nodes]
            for dst in self.nodes:
                for src in self.nodes:
                    if src is not dst:
                        dst.pull(src)
            if [len(n.event_ids()) for n in self.nodes] == before:
                return
        raise AssertionError("the cluster did not settle")

    def dispose(self) -> None:
        for node in self.nodes:
            node.session.close()
            node.engine.dispose()
