"""A cluster of nodes for replication tests: each node has its own database, its own
clock, Auditor and Replicator, and pulls from the others' logs through the wire format,
as a sync would. Used by every replication test; `cluster_fixtures` gives a test module
one cluster per backend, emptied before each test."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.support.databases import BACKENDS, empty_tables, fresh_engine
from webapp.audit import canonical
from webapp.audit.commands import Command, CommandResult
from webapp.audit.entity import Registry
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import HybridClock
from webapp.audit.node import init_node
from webapp.audit.records import get_record
from webapp.audit.replication import (
    ApplyReport,
    Replicator,
    event_from_wire,
    event_to_wire,
    list_conflicts,
)
from webapp.audit.replication.parking import parked_count
from webapp.audit.replication.tables import replication_heads, unique_renames
from webapp.audit.service import Auditor
from webapp.audit.store import events_after
from webapp.audit.tables import change_events, metadata, tombstones
from webapp.domain import registry as demo_registry


@dataclass
class Node:
    name: str
    engine: sa.Engine
    registry: Registry = demo_registry
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
        self.auditor = Auditor(self.registry, clock, node_id)
        self.replicator = Replicator(self.registry, clock, node_id)

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
        for entity in self.registry:
            out[entity.name] = self._rows(entity.table, entity.table.c.id)
        out["tombstones"] = self._rows(tombstones, *tombstones.primary_key.columns)
        out["heads"] = self._rows(replication_heads, *replication_heads.primary_key.columns)
        out["renames"] = self._rows(unique_renames, *unique_renames.primary_key.columns)
        out["open_conflicts"] = sorted(
            (c.conflict_id, c.kind, c.entity, c.record_id, c.winner_event_id,
             tuple(sorted(s.event_id for s in c.sides)))
            for c in list_conflicts(self.session, limit=1000))
        # Record conflicts settled or merged: what the events say, whatever their order.
        # (Which event closed a unique-value collision may still differ between nodes
        # that each closed it themselves.)
        out["past_conflicts"] = sorted(
            (c.conflict_id, c.status, c.resolved_event_id, c.disputed,
             tuple(sorted((s.event_id, s.fields, s.lost) for s in c.sides)))
            for status in ("resolved", "auto", "merged")
            for c in list_conflicts(self.session, status=status, limit=1000)
            if c.kind != "unique_collision")
        self.session.rollback()
        return out

    def event_ids(self) -> set[str]:
        ids = set(self.session.execute(sa.select(change_events.c.event_id)).scalars())
        self.session.rollback()
        return ids

    def parked(self) -> int:
        count = parked_count(self.session)
        self.session.rollback()
        return count

    def record(self, entity: str, record_id: str) -> dict[str, Any] | None:
        found = get_record(self.session, self.registry.get(entity), record_id)
        self.session.rollback()
        return found

    def _rows(self, table: sa.Table, *order: Any) -> list[dict[str, Any]]:
        rows = self.session.execute(sa.select(table).order_by(*order)).all()
        return [dict(r._mapping) for r in rows]


class Cluster:
    def __init__(self, backend: str, tmp: Path, size: int, prefix: str = "repl",
                 registry: Registry = demo_registry) -> None:
        """`registry` may hold entities whose tables are kept off the shared metadata:
        their tables are made (and emptied) here too."""
        self.nodes = [Node(f"n{i}", fresh_engine(backend, f"{prefix}{i}", tmp), registry)
                      for i in range(size)]
        self.extra = [e.table for e in registry if e.table.key not in metadata.tables]
        for node in self.nodes:
            for table in self.extra:
                table.create(node.engine)
            node.start()

    def reset(self) -> None:
        for node in self.nodes:
            node.session.close()
            empty_tables(node.engine)
            with node.engine.begin() as connection:
                for table in self.extra:
                    connection.execute(table.delete())
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


def resealed(event: ChangeEvent, **changes: Any) -> ChangeEvent:
    """The event changed and given a matching hash: what a buggy or hostile peer sends."""
    changed = replace(event, **changes)
    return replace(changed, hash=changed.chained_hash(changed.prev_hash))


def team_schema_2() -> Registry:
    """The demo registry as a node upgraded to team schema 2 knows it: names upper case."""
    upgraded = Registry()
    for entity in demo_registry:
        if entity.name == "team":
            entity = copy.copy(entity)  # the same table
            entity.schema_version = 2
            entity.upcasters = {1: lambda doc: {**doc, "name": doc["name"].upper()}
                                if "name" in doc else doc}
        upgraded.register(entity)
    return upgraded


def sync(a: Node, b: Node) -> None:
    a.pull(b)
    b.pull(a)


def cluster_fixtures(size: int, prefix: str) -> tuple[Any, Any]:
    """A test module's `cluster` (made once per backend) and `nodes` (its nodes, every
    database emptied first):  `cluster, nodes = cluster_fixtures(3, "ra")`."""

    @pytest.fixture(scope="module", params=BACKENDS, name="cluster")
    def cluster(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
        made = Cluster(str(request.param), tmp_path_factory.mktemp(prefix), size, prefix)
        yield made
        made.dispose()

    @pytest.fixture(name="nodes")
    def nodes(cluster: Cluster) -> list[Node]:
        cluster.reset()
        return cluster.nodes

    return cluster, nodes
