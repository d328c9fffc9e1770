"""Nodes for the replication benchmark: the backlog node (built once through the real
Auditor and kept), empty replicas, their own edits, and the convergence check."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit.commands import Command, CreateRecord, UpdateRecord
from webapp.audit.hlc import HybridClock
from webapp.audit.node import init_node, load_node
from webapp.audit.service import Auditor
from webapp.audit.tables import tombstones
from webapp.domain import registry
from webapp.schema import metadata

from .common import Progress, bench_url, say
from .dataset import fingerprint

MARKER = "hs_bench_backlog"


@dataclass
class Node:
    engine: sa.Engine
    node_id: str
    clock: HybridClock
    auditor: Auditor

    @classmethod
    def create(cls, engine: sa.Engine, name: str) -> Node:
        clock = HybridClock()
        with Session(engine) as session:
            node_id = init_node(session, name, clock)
        return cls(engine, node_id, clock, Auditor(registry, clock, node_id))

    @classmethod
    def load(cls, engine: sa.Engine) -> Node:
        with Session(engine) as session:
            found = load_node(session)
        assert found is not None, "not a node's database"
        clock = HybridClock()
        clock.observe(found[1])
        return cls(engine, found[0], clock, Auditor(registry, clock, found[0]))


def backlog(events: int) -> Node:
    """A SQLite node whose log holds exactly `events` events, made by the Auditor."""
    engine = _engine(events, fresh=False)
    with engine.connect() as conn:
        if sa.inspect(conn).has_table(MARKER):
            mark = conn.execute(sa.text(f"SELECT fingerprint FROM {MARKER}")).scalar()
            if mark == fingerprint(events):
                say(f"  reusing the {events:,}-event backlog node")
                return Node.load(engine)
    engine.dispose()
    engine = _engine(events, fresh=True)
    node = Node.create(engine, "bench-a")
    write_backlog(node, events)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {MARKER} (fingerprint VARCHAR(64))"))
        conn.execute(sa.text(f"INSERT INTO {MARKER} VALUES (:f)"), {"f": fingerprint(events)})
    return node


def _engine(events: int, fresh: bool) -> sa.Engine:
    from webapp.audit.db import make_engine

    engine = make_engine(bench_url("sqlite", f"backlog_{events}", fresh))
    metadata.create_all(engine)
    return engine


def write_backlog(node: Node, events: int, label: str = "backlog node A, via the Auditor",
                  session: Session | None = None) -> None:
    """`events` events written through the node's Auditor (creates, then edits), 500
    commands a transaction, in `session` or one of its own."""
    plan = _Plan(events)
    bar = Progress(label, events)
    made = 0
    with session or Session(node.engine) as work:
        while made < events:
            batch = [plan.next(made + i) for i in range(min(500, events - made))]
            for result in node.auditor.execute_all(work, batch):
                if result.record is not None and result.event is not None:
                    plan.versions[result.record["id"]] = (result.event.entity,
                                                          result.record["version"])
            made += len(batch)
            bar.advance(len(batch))
    bar.close()


class _Plan:
    """Teams first, then projects and settings created, then edits of random records."""

    def __init__(self, total: int) -> None:
        self.rng, self.total = random.Random(11), total
        self.versions: dict[str, tuple[str, int]] = {}  # record id -> (entity, version)
        self.teams: list[str] = []
        self.ids: list[str] = []

    def next(self, i: int) -> Command:
        rng = self.rng
        if i < max(self.total // 200, 5):
            command = CreateRecord("team", {"slug": f"team-{i}", "name": f"Team {i}"})
            self.teams.append(command.record_id)
            return command
        if i < self.total // 4 or not self.versions:
            if rng.random() < 0.2:
                return CreateRecord("project", {"name": f"Project {i}", "status": "planned",
                                                "team_id": rng.choice(self.teams)})
            return CreateRecord("setting", {"key": f"app.option_{i}", "value": f"v{i}"})
        if not self.ids or i % 1000 == 0:
            self.ids = list(self.versions)
        record_id = rng.choice(self.ids)
        entity, version = self.versions[record_id]
        self.versions[record_id] = (entity, version + 1)  # the next edit builds on this one
        return UpdateRecord(entity, record_id, version, _change(rng, entity, i))


def _change(rng: random.Random, entity: str, i: int) -> dict[str, Any]:
    if entity == "team":
        return {"name": f"Team {i}"}
    if entity == "project":
        return {"status": ("planned", "active", "paused", "done")[i % 4], "budget": f"{i} EUR"}
    return {"value": f"v{i} retries={rng.randrange(9)}"}


def local_edits(node: Node, count: int) -> None:
    """The replica's own edits, which node A has to pull back."""
    with Session(node.engine) as session:
        for start in range(0, count, 500):
            node.auditor.execute_all(session, [
                CreateRecord("setting", {"key": f"replica.option_{i}", "value": f"b{i}"})
                for i in range(start, min(start + 500, count))])


def mixed_edits(a: Node, b: Node, events: int) -> list[str]:
    """`events` new events on A of which one in five edits a setting that B edits too
    before hearing of it (A the value; B the key, four in five, or the value too); the
    rest edit A's teams and projects, which B leaves alone. Returns the shared settings'
    ids: each of A's edits of them needs a merge on B."""
    setting, rng = registry.get("setting").table, random.Random(5)
    with a.engine.connect() as conn:
        rows = conn.execute(sa.select(setting.c.id, setting.c.version).order_by(setting.c.id)
                            .limit(events // 5)).all()
        others = {r.id: (name, r.version) for name in ("team", "project")
                  for r in conn.execute(sa.select(registry.get(name).table.c.id,
                                                  registry.get(name).table.c.version))}
    pool, shared = sorted(others), iter(enumerate(rows))
    on_a: list[Command] = []
    for i in range(events):
        pair = next(shared, None) if i % 5 == 0 else None
        if pair is not None:
            on_a.append(UpdateRecord("setting", pair[1].id, pair[1].version,
                                     {"value": f"a{pair[0]}"}))
            continue
        record_id = rng.choice(pool)
        entity, version = others[record_id]
        others[record_id] = (entity, version + 1)
        on_a.append(UpdateRecord(entity, record_id, version, _change(rng, entity, i)))
    on_b = [UpdateRecord("setting", r.id, r.version,
                         {"value": f"b{i}"} if i % 5 == 0 else {"key": f"b.option_{i}"})
            for i, r in enumerate(rows)]
    for name, node, commands in (("A", a, on_a), ("B", b, on_b)):
        bar = Progress(f"new edits on {name}", len(commands))
        with Session(node.engine) as session:
            for start in range(0, len(commands), 500):
                node.auditor.execute_all(session, commands[start:start + 500])
                bar.advance(len(commands[start:start + 500]))
        bar.close()
    return [r.id for r in rows]


def merge_outcome(node: Node, ids: list[str]) -> tuple[int, int]:
    """(records holding A's value and B's key, records whose value was disputed)."""
    table = registry.get("setting").table
    with node.engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.key, table.c.value)
                            .where(table.c.id.in_(ids[:5000]))).all()
    both = sum(1 for r in rows if r.key.startswith("b.") and r.value.startswith("a"))
    disputed = sum(1 for r in rows if not r.key.startswith("b."))
    return both, disputed


def same_records(a: sa.Engine, b: sa.Engine) -> bool:
    """Both databases hold the same records, versions, version vectors and tombstones."""
    def snapshot(engine: sa.Engine) -> list[Any]:
        with engine.connect() as conn:
            out: list[Any] = []
            for entity in registry:
                t = entity.table
                out.append(conn.execute(sa.select(t.c.id, t.c.version, t.c.vv)
                                        .order_by(t.c.id)).all())
            out.append(conn.execute(sa.select(tombstones.c.record_id, tombstones.c.vv)
                                    .order_by(tombstones.c.record_id)).all())
            return [[tuple(r) for r in rows] for rows in out]
    return snapshot(a) == snapshot(b)
