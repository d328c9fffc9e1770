"""Issue 4: apply throughput of a catch-up (100,000 events by default) and the time two
nodes take to converge from that backlog.

Node A holds the backlog: a log written by the real Auditor (teams, projects and
settings created and edited), built once into a SQLite file and reused. Each run copies
it, starts an empty node B on the backend under test with a few edits of its own, then
pulls both ways until neither side gets anything new. A pull is what the sync puller
does minus HTTP: read the peer's log after the cursor (store.events_after), send every
event through its JSON wire form (event_to_wire / event_from_wire, hash checked), and
Replicator.apply_batch it with the new cursor in one transaction."""

from __future__ import annotations

import json
import shutil
import time

from sqlalchemy.orm import Session

from webapp.audit import store
from webapp.audit.db import make_engine
from webapp.audit.replication import Replicator, event_from_wire, event_to_wire
from webapp.domain import registry
from webapp.schema import metadata
from webapp.sync.protocol import DEFAULT_LIMIT

from .common import DATA_DIR, Progress, Report, Result, Settings, bench_engine, say
from .replication_nodes import (
    Node,
    backlog,
    local_edits,
    merge_outcome,
    mixed_edits,
    same_records,
)

BATCH = DEFAULT_LIMIT  # the sync protocol's default batch
TARGET = 5_000.0


class Pull:
    """Pulls one node's log into another; keeps the time spent applying apart."""

    def __init__(self, source: Node, target: Node) -> None:
        self.source, self.target = source, target
        self.replicator = Replicator(registry, target.clock, target.node_id)
        self.apply_s = self.total_s = 0.0
        self.events = self.applied = 0

    def run(self, label: str | None = None) -> int:
        """Pull until caught up; return how many events came over."""
        start, came = time.perf_counter(), 0
        with Session(self.source.engine) as src, Session(self.target.engine) as dst:
            cursor = self.replicator.cursor(dst, self.source.node_id)
            head = store.last_seq(src)
            bar = Progress(label, head - cursor) if label and head > cursor else None
            while True:
                events = store.events_after(src, cursor, BATCH)
                src.rollback()
                if not events:
                    break
                wire = json.loads(json.dumps([event_to_wire(e) for e in events]))
                batch = [event_from_wire(doc) for doc in wire]
                began = time.perf_counter()
                report = self.replicator.apply_batch(dst, self.source.node_id, batch,
                                                     events[-1].seq or cursor)
                self.apply_s += time.perf_counter() - began
                self.applied += report.applied
                cursor, came = events[-1].seq or cursor, came + len(events)
                if bar:
                    bar.advance(len(events))
            if bar:
                bar.close()
        self.events += came
        self.total_s += time.perf_counter() - start
        return came


def run(settings: Settings, report: Report) -> None:
    n = settings.catchup_events
    say(f"\n== replication: catch-up of a {n:,}-event backlog, then convergence ==")
    report.notes.append("replication: a pull = store.events_after + the JSON wire form "
                        "(hash checked) + Replicator.apply_batch, in process (no HTTP); "
                        "node A is SQLite, node B the backend named")
    source = backlog(n)
    for backend in settings.backends:
        say(f"\n  -- node A: copy of the backlog (sqlite); node B: empty, on {backend} --")
        a = _copy_of(source)
        b = Node.create(bench_engine(backend, "replica", fresh=True), "bench-b")
        local = max(n // 100, 10)
        local_edits(b, local)
        b_from_a, a_from_b = Pull(a, b), Pull(b, a)
        start = time.perf_counter()
        b_from_a.run(f"B ({backend}) catches up from A")
        caught = (b_from_a.events, b_from_a.apply_s, b_from_a.total_s)
        rounds = 1
        while a_from_b.run(f"A pulls B's log back ({backend})") + b_from_a.run() > 0:
            rounds += 1
        converge_s = time.perf_counter() - start
        equal = same_records(a.engine, b.engine)
        rate, wire_rate = caught[0] / caught[1], caught[0] / caught[2]
        say(f"    B applied {caught[0]:,} events in {caught[1]:.1f} s: "
            f"{rate:,.0f} events/s (apply_batch only), {wire_rate:,.0f} events/s with "
            f"reading A's log and the wire form")
        say(f"    A pulled B's log back: {a_from_b.events:,} events ({local:,} B's own, the "
            f"rest A's relayed back and skipped) in {a_from_b.total_s:.1f} s")
        say(f"    converged in {converge_s:.1f} s ({rounds} round(s) of pulls); same records "
            f"and versions on both: {'yes' if equal else 'NO'}")
        ok = rate >= TARGET
        report.add(Result("replication", "catch-up apply events/s (into B)", backend, rate,
                          "ev/s", f">= {TARGET:,.0f}", ok))
        report.add(Result("replication", "catch-up events/s incl. read + wire", backend,
                          wire_rate, "ev/s"))
        report.add(Result("replication", f"convergence time, {n:,}-event backlog", backend,
                          converge_s, "s", "converged", equal))
        _mixed(a, b, n, backend, rate, report)
        for node in (a, b):
            node.engine.dispose()


def _mixed(a: Node, b: Node, n: int, backend: str, clean_rate: float,
           report: Report) -> None:
    """The issue's figure: a catch-up of `n` events of which one in five needs a merge
    (A and B edited the same settings before hearing from each other: different fields
    merged, one in five the same field, a dispute lww settles)."""
    say(f"\n    {n:,} new events on A, one in five concurrent with an edit on B; "
        "B pulls them (those merge)")
    ids = mixed_edits(a, b, n)
    pull = Pull(a, b)
    pull.run(f"B ({backend}) catches up, merging")
    rate = pull.events / pull.apply_s
    Pull(b, a).run(f"A merges B's edits ({backend})")
    Pull(a, b).run()
    equal = same_records(a.engine, b.engine)
    merged, disputed = merge_outcome(b, ids)
    say(f"    B applied {pull.events:,} events ({len(ids):,} merging) in {pull.apply_s:.1f} s: "
        f"{rate:,.0f} events/s ({rate / clean_rate:.2f} of the conflict-free catch-up's "
        f"rate); {merged:,} records hold both changes, {disputed:,} disputed values settled "
        f"by lww; same records on both: {'yes' if equal else 'NO'}")
    report.add(Result("replication", "catch-up apply events/s, 20% merging", backend,
                      rate, "ev/s", f">= {TARGET:,.0f}", rate >= TARGET and equal))
    report.add(Result("replication", "20%-merging apply / conflict-free apply", backend,
                      rate / clean_rate, "ratio"))


def _copy_of(source: Node) -> Node:
    """A fresh copy of the backlog node's SQLite file (the copy is changed by the run)."""
    with source.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = DATA_DIR / "hs_bench_replica_a.sqlite3"
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    shutil.copyfile(str(source.engine.url.database), path)
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return Node.load(engine)

