"""Issue 11: `flask audit compact` of a whole log (1,000,000 events by default; no peers,
so everything the snapshot covers goes), and a brand-new node's bootstrap from that
snapshot (every record and tombstone written, chains started), each in a process of its
own: wall time, CPU time and peak memory. The log is loaded afresh into its own database
(compaction empties it). Replaying the log instead is the replication section's catch-up."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from webapp.audit import keys
from webapp.audit.db import make_engine
from webapp.audit.tables import change_events, node_state, nodes
from webapp.sync.acks import peer_acks
from webapp.sync.tables import peers

from . import dataset
from .common import Report, Settings, add_run, bench_url, flask_process, say

TARGET_S, TARGET_MB = 60.0, 300.0
_CHILD = "from tests.benchmarks.bench_compaction import bootstrap_child as b; b()"


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== compaction: `flask audit compact` of {events:,} events, and a bootstrap ==")
    for backend in settings.backends:
        engine = make_engine(bench_url(backend, f"compact_{events}", fresh=True))
        dataset.ensure({backend: engine}, events)
        _sign_bases(engine)
        _acknowledged(engine)
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="hindsight-compact-") as tmp:
            env = {"HINDSIGHT_SNAPSHOT_DIR": tmp}
            if flask_process(url, "audit", "snapshot", "--quiet", env=env).code != 0:
                raise RuntimeError("flask audit snapshot failed")
            done = flask_process(url, "audit", "compact", "--quiet", env=env)
            if done.code != 0:
                raise RuntimeError(f"flask audit compact failed: {done.stderr[-500:]}")
            removed = _said(done.stdout, "removed ")
            if not removed:
                raise RuntimeError(f"compaction removed nothing: {done.stdout[-800:]}")
            say(f"  {backend}: compact {done.seconds:5.1f} s ({done.cpu_s:.1f} s of CPU), "
                f"peak {done.peak_mb:4.0f} MB (snapshot after it included): {removed[:160]}")
            add_run(report, "compaction", f"compact {events:,} events", backend, done.seconds,
                    done.cpu_s, done.peak_mb, TARGET_S, TARGET_MB)
            snapshot = sorted(Path(tmp).glob("*.jsonl"))[-1]  # the one compaction wrote
            target = bench_url(backend, f"bootstrap_{events}", fresh=True)
            boot = flask_process(target, "shell", env={**env, "PYTHONSTARTUP": "",
                                                       "BENCH_SNAPSHOT": str(snapshot),
                                                       "BENCH_SOURCE_URL": url},
                                 stdin=_CHILD)
            if boot.code != 0 or "BOOTSTRAPPED" not in boot.stdout:
                raise RuntimeError(f"bootstrap failed: {boot.stderr[-800:]}")
            say(f"  {backend}: bootstrap {boot.seconds:5.1f} s ({boot.cpu_s:.1f} s of CPU), "
                f"peak {boot.peak_mb:4.0f} MB: {_said(boot.stdout, 'BOOTSTRAPPED')}")
            add_run(report, "compaction", f"bootstrap from a {events:,}-event snapshot",
                    backend, boot.seconds, boot.cpu_s, boot.peak_mb, TARGET_S, TARGET_MB)


def _sign_bases(engine: sa.Engine) -> None:
    """The generated log signs only each origin's head (a pre-key chain sealed once); a
    node that signs each transaction signs every event. Bootstrap refuses an unsigned
    base of a keyed origin, so sign what compaction keeps (each record's last event,
    each origin's last) with a fresh key per origin, pinned in its place."""
    ev = change_events.c
    with engine.begin() as conn:
        wanted = set(conn.execute(sa.select(sa.func.max(ev.seq))
                                  .group_by(ev.entity, ev.record_id)).scalars())
        wanted |= set(conn.execute(sa.select(sa.func.max(ev.seq))
                                   .group_by(ev.origin_node_id)).scalars())
        private = {r: keys.new_private_key() for r in conn.execute(
            sa.select(nodes.c.node_id)).scalars()}
        rows = conn.execute(sa.select(ev.seq, ev.origin_node_id, ev.hash)
                            .where(ev.seq.in_(sorted(wanted)))).all()
        conn.execute(change_events.update().where(ev.seq == sa.bindparam("b_seq"))
                     .values(signature=sa.bindparam("b_sig")),
                     [{"b_seq": r.seq, "b_sig": keys.sign(private[r.origin_node_id],
                                                          r.origin_node_id, r.hash)}
                      for r in rows])
        for node_id, key in private.items():
            public = keys.public_key_hex(key)
            conn.execute(nodes.update().where(nodes.c.node_id == node_id)
                         .values(public_key=public))
            conn.execute(node_state.update().where(node_state.c.node_id == node_id)
                         .values(public_key=public))
    say(f"  signed {len(rows):,} events compaction keeps as bases or chain starts")


def _acknowledged(engine: sa.Engine) -> None:
    """Every other origin is a peer that has acknowledged the whole log (compaction
    removes only what every known node has)."""
    now = time.time_ns() // 1_000_000
    with engine.begin() as conn:
        last = conn.execute(sa.select(sa.func.max(change_events.c.seq))).scalar_one()
        others = conn.execute(sa.select(nodes.c.node_id, nodes.c.name)
                              .where(nodes.c.is_self.is_(False))).all()
        for n, (node_id, name) in enumerate(others):
            conn.execute(peers.insert().values(
                name=f"{name}-peer", url=None, secret="x" * 40, key_id=f"k{n:015d}",
                node_id=node_id, created_ms=now))
            conn.execute(peer_acks.insert().values(peer=f"{name}-peer", acked_seq=last,
                                                   acked_head=0, settled_seq=last,
                                                   acked_ms=now))


def _said(out: str, mark: str) -> str:
    return next((line[line.index(mark):] for line in out.splitlines() if mark in line), "")


def bootstrap_child() -> None:
    """In `flask shell`: a brand-new node on this database, bootstrapped from the file,
    with the source's keys pinned (as its hello would pin them)."""
    import os

    import sqlalchemy as sa

    from webapp.audit.compaction.bootstrap import bootstrap
    from webapp.audit.tables import nodes
    from webapp.domain import registry
    from webapp.extensions import db
    from webapp.runtime import auditor
    from webapp.schema import metadata

    metadata.create_all(db.engine)
    own = auditor().node_id
    source = make_engine(os.environ["BENCH_SOURCE_URL"])
    with source.connect() as conn:
        keys = {r.node_id: r.public_key for r in conn.execute(
            sa.select(nodes.c.node_id, nodes.c.public_key).where(nodes.c.public_key.is_not(None)))}
    source.dispose()
    path = Path(os.environ["BENCH_SNAPSHOT"])
    with path.open("rb") as stream:
        lines = (json.loads(line) for line in stream)
        first = next(lines)
        done = bootstrap(db.session(), registry, auditor().clock, _chain(first, lines), own,
                         first["node_id"], keys)
    db.session.commit()
    print(f"BOOTSTRAPPED {done.records:,} records and {done.tombstones:,} tombstones",
          file=sys.stdout)


def _chain(first, rest):  # type: ignore[no-untyped-def]
    yield first
    yield from rest
