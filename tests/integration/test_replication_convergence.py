"""Convergence, as a property: three nodes with their own databases make random
creates, updates, deletes and conflict resolutions on entities of both policies, and
pull from each other with arbitrary cursor ranges, re-delivered old batches, partitions
and restarts. After a full sync every node holds every event and the same records,
version vectors, tombstones, collision heads, renames and open conflicts, with at most
one open conflict per collision."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.integration import merge_reference
from tests.integration.replication_cluster import Cluster, Node
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import AuditError
from webapp.audit.events import ChangeEvent
from webapp.audit.replication import list_conflicts, resolve_conflict
from webapp.audit.replication.chains import verify_chains
from webapp.audit.replication.tables import conflicts, replication_heads
from webapp.audit.store import upcast
from webapp.domain import ROLES, registry

pytestmark = pytest.mark.slow

NODES = 3
VALUES: dict[str, dict[str, Any]] = {
    # Small domains, so that concurrent writers collide on records and unique values.
    "team": {"slug": ["red", "blue"], "name": ["Red", "Blue", "Green"],
             "description": [None, "first", "second"]},
    "user": {"username": ["ann", "bob"], "email": ["a@example.org", "b@example.org"],
             "role": list(ROLES), "active": [True, False], "full_name": [None, "Ann", "Bob"]},
    "project": {"name": ["Apollo", "Gemini"], "status": ["planned", "active", "done"],
                "budget": [None, "small", "large"]},
    "setting": {"key": ["mail.host", "site.name"], "value": ["1", "2", None]},
}


class Convergence(RuleBasedStateMachine):
    cluster: Cluster

    def __init__(self) -> None:
        super().__init__()
        self.cluster.reset()
        self.nodes = self.cluster.nodes
        self.delivered: list[tuple[Node, list[ChangeEvent], int]] = []
        self.cut: set[frozenset[int]] = set()

    # Every draw below happens whatever the databases hold, with fixed bounds: what a
    # draw means may depend on the state (an index into the records there are), but the
    # sequence of draws may not, or Hypothesis cannot replay and shrink an example.

    def _ids(self, node: Node, entity: str) -> list[str]:
        table = registry.get(entity).table
        ids = list(node.session.execute(sa.select(table.c.id).order_by(table.c.id)).scalars())
        node.session.rollback()
        return ids

    def _pick(self, data: st.DataObject, items: list[Any]) -> Any:
        index = data.draw(st.integers(0, 63))
        return items[index % len(items)] if items else None

    def _values(self, data: st.DataObject, node: Node, entity: str,
                partial: bool) -> dict[str, Any]:
        fields = VALUES[entity]
        chosen = data.draw(st.sets(st.sampled_from(sorted(fields)), min_size=1)) if partial \
            else set(fields)
        values = {f: data.draw(st.sampled_from(fields[f])) for f in sorted(chosen)}
        if entity == "project":
            change_team = data.draw(st.booleans())
            team = self._pick(data, self._ids(node, "team"))
            if team is not None and (change_team or not partial):
                values["team_id"] = team
        return values

    def _version(self, node: Node, entity: str, record_id: str) -> int:
        found = node.record(entity, record_id)
        return int(found["version"]) if found else 0

    @initialize(data=st.data())
    def shared_records(self, data: st.DataObject) -> None:
        """A few records every node has, so that writers have something to collide on."""
        for entity in ("team", "team", "project", "user", "setting"):
            self.create(data.draw(st.integers(0, NODES - 1)), entity, data)
        self.cluster.full_sync()

    @rule(entity=st.sampled_from(sorted(VALUES)), writers=st.sets(st.integers(0, NODES - 1),
                                                                 min_size=2), data=st.data())
    def concurrent_writes(self, entity: str, writers: set[int], data: st.DataObject) -> None:
        """Two or three nodes change the same record before hearing from each other."""
        ids = set.intersection(*(set(self._ids(self.nodes[n], entity)) for n in writers))
        record_id = self._pick(data, sorted(ids))
        for n in sorted(writers):
            node = self.nodes[n]
            values = self._values(data, node, entity, partial=True)
            deletes = data.draw(st.integers(0, 4)) == 0
            if record_id is None:
                continue
            version = self._version(node, entity, record_id)
            command: UpdateRecord | DeleteRecord = UpdateRecord(entity, record_id, version,
                                                                values)
            if deletes:
                command = DeleteRecord(entity, record_id, version)
            try:
                node.run(command)
            except AuditError:
                pass

    @rule(n=st.integers(0, NODES - 1), data=st.data())
    def several_in_one_transaction(self, n: int, data: st.DataObject) -> None:
        """Commands run together (execute_all): one transaction, several events."""
        node, commands = self.nodes[n], []
        for entity in data.draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=2,
                                         max_size=3)):
            update = data.draw(st.booleans())
            record_id = self._pick(data, self._ids(node, entity))
            changes = self._values(data, node, entity, partial=True)
            created = self._values(data, node, entity, partial=False)
            if update and record_id is not None:
                version = self._version(node, entity, record_id)
                commands.append(UpdateRecord(entity, record_id, version, changes))
            else:
                commands.append(CreateRecord(entity, created))
        try:
            node.auditor.execute_all(node.session, commands)
        except AuditError:
            pass

    @rule(order=st.permutations(range(NODES)), data=st.data())
    def dependency_ahead(self, order: list[int], data: st.DataObject) -> None:
        """A project reaches a node before its team: a makes the team, b the project,
        c hears only of the project, so it must wait there until the team arrives."""
        a, b, c = (self.nodes[i] for i in order[:3])
        self.create(order[0], "team", data)
        b.pull(a, b.replicator.cursor(b.session, a.node_id))
        self.create(order[1], "project", data)
        events = b.log(0)
        if events and events[-1].entity == "project":
            assert events[-1].seq is not None
            c.receive(b, events[-1:], events[-1].seq)

    @rule(n=st.integers(0, NODES - 1), entity=st.sampled_from(sorted(VALUES)), data=st.data())
    def create(self, n: int, entity: str, data: st.DataObject) -> None:
        node = self.nodes[n]
        try:
            node.run(CreateRecord(entity, self._values(data, node, entity, partial=False)))
        except AuditError:
            pass  # a taken unique value or a missing team: refused locally, as it should be

    @rule(n=st.integers(0, NODES - 1), entity=st.sampled_from(sorted(VALUES)), data=st.data())
    def update(self, n: int, entity: str, data: st.DataObject) -> None:
        node = self.nodes[n]
        record_id = self._pick(data, self._ids(node, entity))
        values = self._values(data, node, entity, partial=True)
        if record_id is not None:
            version = self._version(node, entity, record_id)
            try:
                node.run(UpdateRecord(entity, record_id, version, values))
            except AuditError:
                pass

    @rule(n=st.integers(0, NODES - 1), entity=st.sampled_from(sorted(VALUES)), data=st.data())
    def delete(self, n: int, entity: str, data: st.DataObject) -> None:
        node = self.nodes[n]
        record_id = self._pick(data, self._ids(node, entity))
        if record_id is not None:
            version = self._version(node, entity, record_id)
            try:
                node.run(DeleteRecord(entity, record_id, version))
            except AuditError:
                pass  # still referenced by a project

    @rule(dst=st.integers(0, NODES - 1), src=st.integers(0, NODES - 1),
          start=st.integers(0, 40), size=st.integers(1, 12))
    def pull_a_range(self, dst: int, src: int, start: int, size: int) -> None:
        """Any window of a peer's log: out of order, with gaps, repeated."""
        if dst == src or frozenset((dst, src)) in self.cut:
            return
        source = self.nodes[src]
        events = source.log(start, size)
        upto = events[-1].seq if events else start
        assert upto is not None
        self.nodes[dst].receive(source, events, upto)
        self.delivered.append((source, events, upto))

    @rule(dst=st.integers(0, NODES - 1), src=st.integers(0, NODES - 1))
    def pull_all(self, dst: int, src: int) -> None:
        if dst != src and frozenset((dst, src)) not in self.cut:
            node, source = self.nodes[dst], self.nodes[src]
            node.pull(source, node.replicator.cursor(node.session, source.node_id))

    @rule(dst=st.integers(0, NODES - 1), data=st.data())
    def redeliver(self, dst: int, data: st.DataObject) -> None:
        """An old batch again, possibly to another node than the first time."""
        batch = self._pick(data, self.delivered)
        if batch is not None and batch[0] is not self.nodes[dst]:
            self.nodes[dst].receive(*batch)

    @rule(a=st.integers(0, NODES - 1), b=st.integers(0, NODES - 1))
    def partition(self, a: int, b: int) -> None:
        self.cut.add(frozenset((a, b)))

    @rule()
    def heal(self) -> None:
        self.cut.clear()

    @rule(n=st.integers(0, NODES - 1))
    def restart(self, n: int) -> None:
        self.nodes[n].start()

    @rule(n=st.integers(0, NODES - 1), data=st.data())
    def resolve(self, n: int, data: st.DataObject) -> None:
        node = self.nodes[n]
        found = list_conflicts(node.session)
        node.session.rollback()
        conflict = self._pick(data, found)
        side = self._pick(data, conflict.sides if conflict else [])
        accept_rename = data.draw(st.booleans())
        rename = data.draw(st.integers(0, 63))
        if conflict is None:
            return
        values: dict[str, Any] | None
        if side.state is None:
            values = None
        elif conflict.kind == "unique_collision":
            domain = VALUES[conflict.entity][conflict.field or ""]
            values = {} if accept_rename else {conflict.field: domain[rename % len(domain)]}
        else:
            values = {f: side.state[f] for f in VALUES[conflict.entity] if f in side.state}
        try:
            resolve_conflict(node.auditor, node.session, conflict.conflict_id, values,
                             conflict.version)
        except AuditError:
            pass  # stale, a taken value, or a referenced record

    @invariant()
    def one_conflict_per_collision(self) -> None:
        for node in self.nodes:
            rows = node.session.execute(
                sa.select(conflicts.c.entity, conflicts.c.record_id, conflicts.c.kind,
                          conflicts.c.field, conflicts.c.value_hash)
                .where(conflicts.c.status == "open")).all()
            node.session.rollback()
            keys = Counter((r.entity, r.record_id) if r.kind != "unique_collision"
                           else (r.entity, r.field, r.value_hash) for r in rows)
            assert all(count == 1 for count in keys.values()), keys

    def matches_the_reference_merge(self) -> None:
        """Every record equals the reference model's per-field merge of its events, and
        every field it finds disputed on a manual record is in exactly one open conflict."""
        node = self.nodes[0]
        events = [upcast(registry, e) for e in node.log(0)]
        renamed = {(r["entity"], r["record_id"], r["field"])
                   for r in node.snapshot()["renames"]}
        open_by_record = Counter()
        disputed_open: dict[tuple[str, str], tuple[str, ...]] = {}
        for conflict in list_conflicts(node.session, limit=1000):
            if conflict.kind == "concurrent_update":
                key = (conflict.entity, conflict.record_id)
                open_by_record[key] += 1
                disputed_open[key] = conflict.disputed or ()
        node.session.rollback()
        for (entity, record_id), mine in merge_reference.by_record(events).items():
            state, disputed = merge_reference.expected(mine)
            row = node.record(entity, record_id)
            if state is None:
                assert row is None, f"{entity} {record_id} should be deleted"
                continue
            assert row is not None, f"{entity} {record_id} should exist"
            for name, value in state.items():
                if (entity, record_id, name) in renamed:
                    continue
                if isinstance(value, merge_reference.Candidates):
                    assert row[name] in value, f"{entity}.{name} of {record_id}"
                else:
                    assert row[name] == value, f"{entity}.{name} of {record_id}"
            heads = [e for e in mine if e.event_id in self._head_ids(node, entity, record_id)]
            live_heads = [h for h in heads if h.post_state is not None]
            if (registry.get(entity).policy.value == "manual" and disputed
                    and len(live_heads) == len(heads) > 1):
                assert open_by_record[(entity, record_id)] == 1
                assert list(disputed_open[(entity, record_id)]) == disputed

    def _head_ids(self, node: Node, entity: str, record_id: str) -> set[str]:
        rows = node.session.execute(sa.select(replication_heads.c.event_id).where(
            replication_heads.c.entity == entity,
            replication_heads.c.record_id == record_id)).scalars()
        found = set(rows)
        node.session.rollback()
        return found

    def teardown(self) -> None:
        self.cut.clear()
        self.cluster.full_sync()
        every = set().union(*(n.event_ids() for n in self.nodes))
        first = self.nodes[0].snapshot()
        for node in self.nodes:
            assert node.event_ids() == every, "an event was lost"
            assert node.parked() == 0
            mine = node.snapshot()
            for key in first:
                assert mine[key] == first[key], f"{node.name} differs from n0 in {key}"
            assert verify_chains(node.session) == [], "a relayed event lost its origin link"
            node.session.rollback()
        self.one_conflict_per_collision()
        self.matches_the_reference_merge()


def test_nodes_converge_whatever_the_order_duplication_and_partitions(tmp_path: Path) -> None:
    cluster = Cluster("sqlite", tmp_path, NODES, prefix="conv")
    machine = type("ClusterConvergence", (Convergence,), {"cluster": cluster})
    try:
        run_state_machine_as_test(machine, settings=settings(
            max_examples=int(os.environ.get("CONV_EXAMPLES", "30")), stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]))
    finally:
        cluster.dispose()
