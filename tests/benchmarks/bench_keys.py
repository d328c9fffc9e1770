"""Issue 9: what node keys cost, measured side by side in one run.

- Signing: audited creates on a node with a key (the last event of every transaction
  signed with Ed25519) against the same creates on a node without one, same backend,
  interleaved in blocks that take turns at going first (as bench_writes does).
- Verification on apply: one signed backlog applied into two empty replicas, batch by
  batch, alternating which goes first: one with the trust check (chain links to the
  stored head, one Ed25519 verification per origin per batch), one with that step
  replaced by a pass-through. Only apply_batch is timed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from webapp.audit import keys, store
from webapp.audit.commands import CreateRecord
from webapp.audit.keygen import give_key
from webapp.audit.replication import Replicator, event_from_wire, event_to_wire
from webapp.audit.replication import apply as apply_module
from webapp.audit.replication.trust import Chains
from webapp.audit.tables import nodes
from webapp.domain import registry

from .bench_writes import _race, _value
from .common import Progress, Report, Result, Settings, bench_engine, say
from .replication_nodes import Node, write_backlog

SIGN_TARGET, VERIFY_TARGET = 0.90, 0.85
BATCH = 500
APPLY_BATCH = 2000


def run(settings: Settings, report: Report) -> None:
    txn_rows = 200 if settings.quick else 600
    batch_rows = BATCH * (4 if settings.quick else 10)
    backlog_events = 20_000 if settings.quick else 60_000
    report.notes.append("keys: signing = audited creates on a keyed node / on a keyless "
                        "node; verification = apply_batch with the trust check / with it "
                        "replaced by a pass-through, same signed backlog")
    source = _signed_backlog(backlog_events)
    for backend in settings.backends:
        say(f"\n== node keys on {backend} ==")
        for mode, size, rows in (("1 row per txn", 1, txn_rows),
                                 (f"{BATCH} rows per txn", BATCH, batch_rows)):
            unsigned, signed = _signing(backend, mode, size, rows)
            ratio = signed / unsigned
            say(f"  signing, create {mode:<16} keyless {unsigned:>9,.0f} rows/s   signed "
                f"{signed:>9,.0f} rows/s   signed/keyless {ratio:.3f}  target >= "
                f"{SIGN_TARGET} {'ok' if ratio >= SIGN_TARGET else 'MISSED'}")
            report.add(Result("keys", f"audited create {mode}, signed/keyless", backend,
                              ratio, "x", f">= {SIGN_TARGET}", ratio >= SIGN_TARGET))
            report.add(Result("keys", f"audited create {mode}, signed rows/s", backend,
                              signed, "rows/s"))
        plain, checked = _verification(source, backend, backlog_events)
        ratio = checked / plain
        say(f"  apply of a {backlog_events:,}-event signed backlog: without trust check "
            f"{plain:,.0f} ev/s, with it {checked:,.0f} ev/s, ratio {ratio:.3f}  target >= "
            f"{VERIFY_TARGET} {'ok' if ratio >= VERIFY_TARGET else 'MISSED'}")
        report.add(Result("keys", "apply events/s, verified/unverified", backend, ratio, "x",
                          f">= {VERIFY_TARGET}", ratio >= VERIFY_TARGET))
        report.add(Result("keys", "apply events/s with verification", backend, checked,
                          "ev/s"))


def _signing(backend: str, mode: str, size: int, rows: int) -> tuple[float, float]:
    tag = "t" if size == 1 else "b"
    keyless = Node.create(bench_engine(backend, f"keys_off_{tag}", fresh=True), "keyless")
    keyed = Node.create(bench_engine(backend, f"keys_on_{tag}", fresh=True), "keyed")
    with Session(keyed.engine) as session:
        give_key(session, keyed.node_id, keys.new_private_key())
    sessions = Session(keyless.engine), Session(keyed.engine)

    def commands(side: str) -> list[CreateRecord]:
        return [CreateRecord("setting", {"key": f"bench.{side}_{i:06d}", "value": _value(i, 0)})
                for i in range(rows)]

    def work(node: Node, session: Session) -> Any:
        return lambda chunk: node.auditor.execute_all(session, list(chunk))
    try:
        return _race(f"create, {mode}", size, commands("off"), commands("on"),
                     work(keyless, sessions[0]), work(keyed, sessions[1]))
    finally:
        for session in sessions:
            session.close()
        keyless.engine.dispose()
        keyed.engine.dispose()


def _signed_backlog(events: int) -> Node:
    node = Node.create(bench_engine("sqlite", f"keys_backlog_{events}", fresh=True), "bench-a")
    with Session(node.engine) as session:
        give_key(session, node.node_id, keys.new_private_key())
        write_backlog(node, events, "signed backlog, via the Auditor", session)
    return node


def _verification(source: Node, backend: str, events: int) -> tuple[float, float]:
    """(events/s applied without the trust check, events/s with it)."""
    with Session(source.engine) as src:
        public = keys.own_public_key(src)
        batches = []
        cursor = 0
        while True:
            found = store.events_after(src, cursor, APPLY_BATCH)
            if not found:
                break
            batches.append((json.loads(json.dumps([event_to_wire(e) for e in found])),
                            int(found[-1].seq or 0)))
            cursor = int(found[-1].seq or 0)
    replicas = [Node.create(bench_engine(backend, f"keys_replica_{n}", fresh=True), f"r{n}")
                for n in ("plain", "checked")]
    with replicas[1].engine.begin() as conn:  # the source's key, pinned as a hello would
        conn.execute(nodes.insert().values(node_id=source.node_id, name="bench-a",
                                           is_self=False, first_seen_hlc=0,
                                           public_key=public, key_via=source.node_id))
    times = [0.0, 0.0]
    bar = Progress(f"apply both ways ({backend})", 2 * events)
    for n, (wire, upto) in enumerate(batches):
        order = (0, 1) if n % 2 == 0 else (1, 0)
        for side in order:
            batch = [event_from_wire(doc) for doc in wire]
            replicator = Replicator(registry, replicas[side].clock, replicas[side].node_id)
            with Session(replicas[side].engine) as dst, _trust_check(side == 1):
                began = time.perf_counter()
                replicator.apply_batch(dst, source.node_id, batch, upto)
                if n > 0:  # the first batch warms up
                    times[side] += time.perf_counter() - began
            bar.advance(len(wire))
    bar.close()
    counted = events - len(batches[0][0])
    for replica in replicas:
        replica.engine.dispose()
    return counted / times[0], counted / times[1]


@contextmanager
def _trust_check(on: bool) -> Iterator[None]:
    """The trust step as the app runs it, or a pass-through that applies the fresh events
    in the order received (what apply did before node keys)."""
    if on:
        yield
        return
    real = apply_module.settle_chains

    def passthrough(session: Any, own: str, cursor: Any, fresh: Sequence[Any],
                    upcast: Any) -> Chains:
        return Chains(ordered=list(fresh))
    apply_module.settle_chains = passthrough  # type: ignore[assignment]
    try:
        yield
    finally:
        apply_module.settle_chains = real
