"""Issue 11: `flask audit compact` of a whole log (1,000,000 events by default; no peers,
so everything the snapshot covers goes), and a brand-new node joining it both ways: by
bootstrap from that snapshot (every record and tombstone written, chains started) and,
side by side in the same run, by replaying the whole log through the apply path. Each
in a process of its own: wall time, CPU time and peak memory; the target is a bootstrap
at least 10 times faster than the replay. The log is loaded afresh into its own
database (compaction empties it); the replay runs before the compaction."""

from __future__ import annotations

import os
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
from .bench_replication import BATCH
from .common import Report, Result, Run, Settings, add_run, bench_url, flask_process, say
from .compaction_nodes import apply_s

TARGET_S, TARGET_MB, TARGET_RATIO = 60.0, 300.0, 10.0
_CHILD = "from tests.benchmarks.compaction_nodes import {0} as child; child()"


def run(settings: Settings, report: Report) -> None:
    from webapp import create_app  # noqa: F401  (every blueprint's tables join the metadata)

    events = settings.timeline_events
    say(f"\n== compaction: `flask audit compact` of {events:,} events; a new node's bootstrap "
        "from the snapshot against its replay of the log ==")
    for backend in settings.backends:
        engine = make_engine(bench_url(backend, f"compact_{events}", fresh=True))
        dataset.ensure({backend: engine}, events)
        _sign_bases(engine)
        _acknowledged(engine)
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        replay = _replay(url, backend, events, report)
        with tempfile.TemporaryDirectory(prefix="hindsight-compact-") as tmp:
            snapshot = _compact(url, backend, events, tmp, report)
            boot = _bootstrap(url, backend, events, snapshot, report)
        _ratio(backend, replay, boot, report)


def _replay(url: str, backend: str, events: int, report: Report) -> Run:
    """A brand-new node catching up the whole log through the apply path."""
    target = bench_url(backend, f"replay_{events}", fresh=True)
    run = flask_process(target, "shell", stdin=_CHILD.format("replay_child"),
                        env={"PYTHONSTARTUP": "", "BENCH_SOURCE_URL": url},
                        show_progress=True)
    if run.code != 0 or "REPLAYED" not in run.stdout:
        raise RuntimeError(f"replay failed: {run.stderr[-800:]}")
    say(f"  {backend}: replay {run.seconds:5.1f} s ({run.cpu_s:.1f} s of CPU), peak "
        f"{run.peak_mb:4.0f} MB, load {os.getloadavg()[0]:.1f}: {_said(run.stdout, 'REPLAYED')}")
    name = f"replay of the {events:,}-event log (new node)"
    report.add(Result("compaction", f"{name}: time", backend, run.seconds, "s"))
    report.add(Result("compaction", f"{name}: CPU time", backend, run.cpu_s, "s"))
    report.add(Result("compaction", f"{name}: peak memory", backend, run.peak_mb, "MB"))
    return run


def _compact(url: str, backend: str, events: int, tmp: str, report: Report) -> Path:
    """`flask audit compact` (the snapshot first); the snapshot file it wrote."""
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
        f"peak {done.peak_mb:4.0f} MB, load {os.getloadavg()[0]:.1f} (snapshot after it "
        f"included): {removed[:160]}")
    add_run(report, "compaction", f"compact {events:,} events", backend, done.seconds,
            done.cpu_s, done.peak_mb, TARGET_S, TARGET_MB)
    return sorted(Path(tmp).glob("*.jsonl"))[-1]  # the one compaction wrote


def _bootstrap(url: str, backend: str, events: int, snapshot: Path, report: Report) -> Run:
    target = bench_url(backend, f"bootstrap_{events}", fresh=True)
    boot = flask_process(target, "shell", stdin=_CHILD.format("bootstrap_child"),
                         env={"PYTHONSTARTUP": "", "BENCH_SNAPSHOT": str(snapshot),
                              "BENCH_SOURCE_URL": url})
    if boot.code != 0 or "BOOTSTRAPPED" not in boot.stdout:
        raise RuntimeError(f"bootstrap failed: {boot.stderr[-800:]}")
    say(f"  {backend}: bootstrap {boot.seconds:5.1f} s ({boot.cpu_s:.1f} s of CPU), "
        f"peak {boot.peak_mb:4.0f} MB, load {os.getloadavg()[0]:.1f}: "
        f"{_said(boot.stdout, 'BOOTSTRAPPED')}")
    add_run(report, "compaction", f"bootstrap from a {events:,}-event snapshot", backend,
            boot.seconds, boot.cpu_s, boot.peak_mb, TARGET_S, TARGET_MB)
    return boot


def _ratio(backend: str, replay: Run, boot: Run, report: Report) -> None:
    """Replay time over bootstrap time, both whole processes (start-up included); and,
    the strictest reading, the replay's apply_batch time alone over the bootstrap's."""
    ratio, strict = replay.seconds / boot.seconds, apply_s(replay.stdout) / boot.seconds
    say(f"  {backend}: bootstrap {ratio:.1f}x faster than the replay "
        f"({strict:.1f}x against apply_batch alone); target >= {TARGET_RATIO:g}x")
    report.add(Result("compaction", "replay time / bootstrap time", backend, ratio, "ratio",
                      f">= {TARGET_RATIO:g}", ratio >= TARGET_RATIO))
    report.add(Result("compaction", "replay apply_batch time / bootstrap time", backend,
                      strict, "ratio", f">= {TARGET_RATIO:g}", strict >= TARGET_RATIO))


def _sign_bases(engine: sa.Engine) -> None:
    """The generated log signs only each origin's head (a pre-key chain sealed once); a
    node that signs each transaction signs every event. Bootstrap refuses an unsigned
    base of a keyed origin, and a pull's batch must end each origin's run on a signed
    event, so sign what compaction keeps (each record's last event, each origin's last)
    and each origin's last event in each batch a replay pulls, with a fresh key per
    origin, pinned in its place."""
    ev = change_events.c
    with engine.begin() as conn:
        wanted = set(conn.execute(sa.select(sa.func.max(ev.seq))
                                  .group_by(ev.entity, ev.record_id)).scalars())
        wanted |= set(conn.execute(sa.select(sa.func.max(ev.seq))
                                   .group_by(ev.origin_node_id)).scalars())
        batch = (ev.seq - 1) // BATCH  # the pulls ask for BATCH events after a cursor
        wanted |= set(conn.execute(sa.select(sa.func.max(ev.seq))
                                   .group_by(ev.origin_node_id, batch)).scalars())
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
