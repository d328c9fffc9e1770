"""The two ways a brand-new node joins, each run in `flask shell` on its own (empty)
database by bench_compaction, with the source node's database at BENCH_SOURCE_URL:
bootstrap from the source's snapshot (BENCH_SNAPSHOT), or replay of its whole log
through the apply path. Each prints one line the bench reads (BOOTSTRAPPED, REPLAYED)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from webapp.audit.db import make_engine
from webapp.audit.hlc import pack, wall_ms
from webapp.audit.tables import nodes


def source_keys() -> dict[str, str]:
    """{node id: public key} of the source's nodes: what its hello announces."""
    source = make_engine(os.environ["BENCH_SOURCE_URL"])
    with source.connect() as conn:
        found = {r.node_id: r.public_key for r in conn.execute(
            sa.select(nodes.c.node_id, nodes.c.public_key)
            .where(nodes.c.public_key.is_not(None)))}
    source.dispose()
    return found


def bootstrap_child() -> None:
    """A brand-new node bootstrapped from the snapshot file, with the source's keys
    pinned (as its hello would pin them)."""
    from webapp.audit import snapshots
    from webapp.audit.compaction.bootstrap import bootstrap
    from webapp.domain import registry
    from webapp.extensions import db
    from webapp.runtime import auditor
    from webapp.schema import metadata

    metadata.create_all(db.engine)
    own = auditor().node_id
    keys = source_keys()
    path = Path(os.environ["BENCH_SNAPSHOT"])
    source = next(snapshots.lines(path))["node_id"]  # the header's: what the hello says
    done = bootstrap(db.session(), registry, auditor().clock, snapshots.lines(path), own,
                     source, keys)
    db.session.commit()
    print(f"BOOTSTRAPPED {done.records:,} records and {done.tombstones:,} tombstones")


def replay_child() -> None:
    """A brand-new node catching up the source's whole log as `flask sync` without
    --bootstrap does, minus HTTP: the hello pins the origins' keys and names them, then
    pulls of the protocol's batch (read the source's log after the cursor, the JSON wire
    form with its hash checked, Replicator.apply_batch with the cursor) until caught up."""
    from webapp.extensions import db
    from webapp.runtime import auditor
    from webapp.schema import metadata

    from .bench_replication import Pull
    from .replication_nodes import Node

    metadata.create_all(db.engine)
    me = auditor()
    source = Node.load(make_engine(os.environ["BENCH_SOURCE_URL"]))
    _pin(db.engine, source_keys(), source.node_id)
    pull = Pull(source, Node(db.engine, me.node_id, me.clock, me))
    start = time.perf_counter()
    pull.run("a new node replays the log")
    took = time.perf_counter() - start
    source.engine.dispose()
    print(f"REPLAYED {pull.events:,} events ({pull.applied:,} applied) in {took:.1f} s, "
          f"apply_batch {pull.apply_s:.1f} s")
    sys.stdout.flush()


def _pin(engine: sa.Engine, keys: dict[str, str], via: str) -> None:
    """What the source's hello leaves: each origin known by name, its key pinned."""
    seen = pack(wall_ms(), 0)
    rows: list[dict[str, Any]] = [
        {"node_id": node_id, "name": f"origin-{node_id[-6:]}", "is_self": False,
         "first_seen_hlc": seen, "public_key": key, "key_via": via}
        for node_id, key in sorted(keys.items())]
    with engine.begin() as conn:
        conn.execute(nodes.insert(), rows)


def apply_s(out: str) -> float:
    """The apply_batch seconds a REPLAYED line reports."""
    line = next(line for line in out.splitlines() if "REPLAYED" in line)
    return float(line.rsplit("apply_batch ", 1)[1].split()[0])
