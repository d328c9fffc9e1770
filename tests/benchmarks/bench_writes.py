"""Issue 2: audited writes (Auditor.execute / execute_all) against plain writes of the same
rows (the same `settings` table, SQLAlchemy Core in a transaction, no event). For scale,
also the plain insert plus a hand-written row in the same change_events table: what
storing an event of this shape costs before any of the audit's own work.

Both sides run interleaved in small blocks, taking turns at going first, so drift in the
machine's load (other processes, a growing table) hits both alike; the ratio is
audited rows/s over plain rows/s."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.hlc import HybridClock
from webapp.audit.ids import new_ulid
from webapp.audit.node import init_node
from webapp.audit.service import Auditor
from webapp.audit.tables import change_events
from webapp.domain import registry, settings

from .common import Progress, Report, Result, Settings, bench_engine, say

ENTITY = settings  # a realistic admin record: unique dotted key, free-text value
BATCH = 500
TARGETS = {"txn": 0.75, "batch": 0.5}
Work = Callable[[Sequence[Any]], None]


class Sides:
    """The audited and the plain writer, each with its own session on one database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.audited_session, self.plain_session = Session(engine), Session(engine)
        clock = HybridClock()
        self.node_id = init_node(self.audited_session, "bench", clock)
        self.auditor = Auditor(registry, clock, self.node_id)
        table = ENTITY.table
        self.insert = table.insert()
        self.update = table.update().where(
            table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version")
        ).values(value=sa.bindparam("b_value"), version=sa.bindparam("b_next"))
        self.delete = table.delete().where(
            table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version"))
        self.sane_multi = engine.dialect.supports_sane_multi_rowcount
        self.event_seq = 10**15  # hand-written event rows: seqs far from the audited side's

    def close(self) -> None:
        self.audited_session.close()
        self.plain_session.close()

    # -- plain: the same table, Core statements, one transaction per call -------------
    def plain(self, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
        s = self.plain_session
        result = s.execute(statement, rows[0] if len(rows) == 1 else list(rows))
        if statement is not self.insert and (len(rows) == 1 or self.sane_multi):
            if result.rowcount != len(rows):  # type: ignore[attr-defined]
                raise RuntimeError("plain write lost a row")
        s.commit()

    def with_event_row(self, rows: Sequence[dict[str, Any]]) -> None:
        """The reference the issue names: the plain insert plus a hand-written event row
        (params and post-state as JSON, a ULID, a timestamp) in the same transaction;
        no node lock, no checks, no hash chain, no version vector."""
        s = self.plain_session
        s.execute(self.insert, rows[0] if len(rows) == 1 else list(rows))
        events = []
        for row in rows:
            self.event_seq += 1
            params = {"key": row["key"], "value": row["value"]}
            events.append({
                "seq": self.event_seq, "event_id": new_ulid(), "origin_node_id": self.node_id,
                "hlc": time.time_ns(), "entity": ENTITY.name, "record_id": row["id"],
                "op": "created", "params": json.dumps(params), "pre_state": None,
                "post_state": json.dumps({"id": row["id"], **params}), "vv_before": "{}",
                "vv_after": "{}", "schema_version": 1, "idempotency_key": new_ulid(),
                "meta": "{}", "prev_hash": "", "hash": ""})
        s.execute(change_events.insert(), events[0] if len(events) == 1 else events)
        s.commit()

    def audited(self, commands: Sequence[Any]) -> list[Any]:
        if len(commands) == 1:
            return [self.auditor.execute(self.audited_session, commands[0])]
        return self.auditor.execute_all(self.audited_session, commands)


def _value(i: int, round_: int) -> str:
    return (f"smtp-{i % 7}.mail.example.org:587 starttls=on retries={round_ + 3} "
            f"timeout={30 + i % 11}s sender=noreply+{i}@example.org")


def _timed(work: Work, units: Sequence[Any]) -> float:
    start = time.perf_counter()
    work(units)
    return time.perf_counter() - start


def _race(label: str, size: int, plain_units: list[Any], audited_units: list[Any],
          plain: Work, audited: Work) -> tuple[float, float]:
    """Run both sides over their units in blocks of `size` rows, alternating which side
    goes first; return (plain rows/s, audited rows/s). Each side's first block warms up
    (statement caches, prepared statements, the pool) and is not counted."""
    block = 5 if size == 1 else size  # single-row txns take turns in blocks of 5
    times, rows = [0.0, 0.0], [0, 0]
    bar = Progress(label, 2 * len(plain_units))
    for n, start in enumerate(range(0, len(plain_units), block)):
        chunks = [(0, plain, plain_units[start:start + block]),
                  (1, audited, audited_units[start:start + block])]
        for side, work, chunk in (chunks if n % 2 == 0 else chunks[::-1]):
            for i in range(0, len(chunk), size):
                took = _timed(work, chunk[i:i + size])
                if n > 0:
                    times[side] += took
                    rows[side] += len(chunk[i:i + size])
            bar.advance(len(chunk))
    bar.close()
    return rows[0] / times[0], rows[1] / times[1]


def _reference(sides: Sides, mode: str, rows: int, tag: str) -> tuple[float, float]:
    """(plain rows/s, plain + hand-written event row rows/s) for creates."""
    size = 1 if mode == "txn" else BATCH
    node = sides.node_id

    def made(side: str) -> list[list[dict[str, Any]]]:
        return [[{"id": new_ulid(), "version": 1, "vv": f'{{"{node}":1}}', "hlc": 0,
                  "origin_node_id": node, "key": f"bench.{tag}.ref_{side}_{i:06d}",
                  "value": _value(i, 0)}] for i in range(rows)]

    return _race(f"{mode} create, reference", size, made("p"), made("e"),
                 lambda c: sides.plain(sides.insert, [r[0] for r in c]),
                 lambda c: sides.with_event_row([r[0] for r in c]))


def _phase(sides: Sides, mode: str, rows: int, tag: str) -> dict[str, tuple[float, float]]:
    """create, update, then delete `rows` rows on each side; size 1 or BATCH per txn."""
    size = 1 if mode == "txn" else BATCH
    node = sides.node_id
    keys = [(f"bench.{tag}.plain_{i:06d}", f"bench.{tag}.audited_{i:06d}") for i in range(rows)]
    plain_rows = [{"id": new_ulid(), "version": 1, "vv": f'{{"{node}":1}}', "hlc": 0,
                   "origin_node_id": node, "key": p, "value": _value(i, 0)}
                  for i, (p, _) in enumerate(keys)]
    creates = [CreateRecord(ENTITY.name, {"key": a, "value": _value(i, 0)})
               for i, (_, a) in enumerate(keys)]
    out: dict[str, tuple[float, float]] = {}
    made: list[dict[str, Any]] = []

    def audited_create(chunk: Sequence[Any]) -> None:
        made.extend(r.record for r in sides.audited(chunk))

    out["create"] = _race(f"{mode} create", size, [[r] for r in plain_rows], creates,
                          lambda c: sides.plain(sides.insert, [r[0] for r in c]), audited_create)
    updates = [UpdateRecord(ENTITY.name, r["id"], r["version"], {"value": _value(i, 1)})
               for i, r in enumerate(made)]
    plain_updates = [{"b_id": r["id"], "b_version": 1, "b_next": 2, "b_value": _value(i, 1)}
                     for i, r in enumerate(plain_rows)]
    made.clear()

    def audited_update(chunk: Sequence[Any]) -> None:
        made.extend(r.record for r in sides.audited(chunk))

    out["update"] = _race(f"{mode} update", size, plain_updates, updates,
                          lambda c: sides.plain(sides.update, c), audited_update)
    deletes = [DeleteRecord(ENTITY.name, r["id"], r["version"]) for r in made]
    plain_deletes = [{"b_id": r["b_id"], "b_version": 2} for r in plain_updates]
    out["delete"] = _race(f"{mode} delete", size, plain_deletes, deletes,
                          lambda c: sides.plain(sides.delete, c),
                          lambda c: None if sides.audited(c) else None)
    return out


def run(settings_: Settings, report: Report) -> None:
    txn_rows = 100 if settings_.quick else 400
    batch_rows = BATCH * (3 if settings_.quick else 7)  # the first batch warms up
    report.notes.append(f"writes: audited = Auditor.execute / execute_all on `{ENTITY.name}`; "
                        "plain = the same rows into the same table with SQLAlchemy Core "
                        "insert/update/delete in a transaction, no event; reference = plain "
                        "plus a hand-written change_events row in the same transaction")
    for backend in settings_.backends:
        say(f"\n== writes on {backend}: entity `{ENTITY.name}`, {txn_rows} rows one per "
            f"transaction, {batch_rows} rows in transactions of {BATCH}, each side; its "
            "first block warms up, untimed ==")
        engine = bench_engine(backend, "writes", fresh=True)
        sides = Sides(engine)
        try:
            figures = {"txn": _phase(sides, "txn", txn_rows, "t"),
                       "batch": _phase(sides, "batch", batch_rows, "b")}
            reference = {"txn": _reference(sides, "txn", txn_rows, "t"),
                         "batch": _reference(sides, "batch", batch_rows, "b")}
        finally:
            sides.close()
            engine.dispose()
        say(f"  {'':<28}{'plain rows/s':>14}{'audited rows/s':>16}{'audited/plain':>15}"
            f"{'target':>10}")
        for mode, ops in figures.items():
            for op, (plain, audited) in ops.items():
                ratio, target = audited / plain, TARGETS[mode]
                name = f"{op}, " + ("1 row per txn" if mode == "txn" else f"{BATCH} rows per txn")
                say(f"  {name:<28}{plain:>14,.0f}{audited:>16,.0f}{ratio:>15.2f}"
                    f"{'>= ' + str(target):>10} {'ok' if ratio >= target else 'MISSED'}")
                report.add(Result("writes", f"{name} audited/plain", backend, ratio, "x",
                                  f">= {target}", ratio >= target))
                report.add(Result("writes", f"{name} audited rows/s", backend, audited, "rows/s"))
                report.add(Result("writes", f"{name} plain rows/s", backend, plain, "rows/s"))
        for mode, (plain, event_row) in reference.items():
            name = "create, " + ("1 row per txn" if mode == "txn" else f"{BATCH} rows per txn")
            audited_plain, audited = figures[mode]["create"]
            say(f"  reference, {name}: plain + a hand-written event row / plain = "
                f"{event_row / plain:.2f} ({event_row:,.0f} vs {plain:,.0f} rows/s); audited "
                f"create reaches {(audited / audited_plain) / (event_row / plain):.2f} of it")
            report.add(Result("writes", f"{name} hand-written event row/plain (reference)",
                              backend, event_row / plain, "x"))
