"""Issue 14: a domain declared outside Hindsight writes and reads as fast as the demo's.

The example inventory (examples/inventory) is registered next to the demo entities in
one registry and one database, and an inventory `product` (a unique slug, a name, a
supplier reference, two exact decimals, a link, a flag) is written and read side by
side with rows of the same shape in the demo's field types: `twin`, declared here with
Slug, Text, Ref and Boolean fields of the same names, values and unique index. That
ratio (the target: no more than 10% below) measures what a domain from outside and its
field types cost. The demo's own `project` (five fields, no unique index) is measured
too, for scale: it is a smaller row, not a comparable one.

Writes: creates then updates, one command per transaction and in batches of 500, the
two sides taking turns in blocks (bench_writes._race). Timeline: pages of 50 events of
one entity, each event's diffs built as the timeline page builds them."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from webapp.audit import Boolean, Entity, Ref, Slug, Text
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.entity import Registry
from webapp.audit.hlc import HybridClock
from webapp.audit.node import init_node
from webapp.audit.service import Auditor
from webapp.audit.store import TimelineFilter, timeline
from webapp.diffs import Fields, for_event
from webapp.domain import registry as demo

from .bench_writes import BATCH, _race
from .common import ROOT, Progress, Report, Result, Settings, bench_engine, say

TARGET = 0.9


def _registry() -> Registry:
    """The demo's entities and the inventory's, in one registry (one database)."""
    sys.path.insert(0, str(ROOT / "examples"))
    inventory = importlib.import_module("inventory.domain")
    both = Registry()
    for entity in demo:
        both.register(entity)
    inventory.register(both)
    both.register(Entity(name="twin", table_name="bench_twins", fields={
        "sku": Slug(max_length=40, unique=True), "name": Text(max_length=120),
        "supplier_id": Ref(entity="supplier", required=False),
        "unit_price": Text(max_length=20), "weight_kg": Text(max_length=20, required=False),
        "datasheet": Text(max_length=2000, required=False), "discontinued": Boolean()}))
    return both


def _commands(n: int, ids: dict[str, str], tag: str) -> dict[str, list[CreateRecord]]:
    """Creates of each entity; a twin gets its product's values (and its own sku)."""
    products = [CreateRecord("product", {
        "sku": f"sku-{tag}-{i}", "name": f"Product {tag} {i}", "supplier_id": ids["supplier"],
        "unit_price": f"{i % 900 + 1}.{i % 100:02d}", "weight_kg": f"0.{i % 1000:03d}",
        "datasheet": f"https://acme.example/p/{i}.pdf", "discontinued": i % 5 == 0})
        for i in range(n)]
    return {
        "product": products,
        "twin": [CreateRecord("twin", {**c.params, "sku": c.params["sku"] + "-t"})
                 for c in products],
        "project": [CreateRecord("project", {
            "name": f"Project {tag} {i}", "team_id": ids["team"], "status": "active",
            "budget": f"{i % 90 + 10}k EUR", "description": f"Rollout wave {i % 7}"})
            for i in range(n)],
    }


def _updates(made: list[dict[str, Any]], entity: str) -> list[UpdateRecord]:
    """The same change for product and twin: a new price and the flag."""
    change: Callable[[int], dict[str, Any]] = (
        (lambda i: {"status": "paused", "budget": f"{i % 50}k EUR"}) if entity == "project"
        else (lambda i: {"unit_price": f"{i % 700 + 2}.50", "discontinued": i % 3 == 0}))
    return [UpdateRecord(entity, r["id"], r["version"], change(i)) for i, r in enumerate(made)]


def _writes(auditor: Auditor, session: Session, n: int, size: int, ids: dict[str, str],
            tag: str, base: str) -> dict[str, tuple[float, float]]:
    """(`base` rows/s, product rows/s) for creates and for updates."""
    made: dict[str, list[dict[str, Any]]] = {base: [], "product": []}

    def run(entity: str) -> Callable[[Any], None]:
        def work(chunk: Any) -> None:
            results = ([auditor.execute(session, chunk[0])] if len(chunk) == 1
                       else auditor.execute_all(session, list(chunk)))
            made[entity].extend(r.record for r in results)
        return work

    commands = _commands(n, ids, tag + base)
    out = {"create": _race(f"{tag} create, {base}/product", size, commands[base],
                           commands["product"], run(base), run("product"))}
    updates = {e: _updates(made[e], e) for e in made}
    made = {base: [], "product": []}
    out["update"] = _race(f"{tag} update, {base}/product", size, updates[base],
                          updates["product"], run(base), run("product"))
    return out


def _timeline(session: Session, registry: Registry, pages: int,
              base: str) -> tuple[float, float]:
    """(`base` pages/s, product pages/s): pages of 50 events, diffs built for each."""
    spent = {base: 0.0, "product": 0.0}
    bar = Progress(f"timeline pages, {base}/product", 2 * pages)
    for n in range(pages):
        order = (base, "product") if n % 2 == 0 else ("product", base)
        for entity in order:
            fields = Fields.of(registry.get(entity))
            start = time.perf_counter()
            page = timeline(session, TimelineFilter(entity=entity), None, 50, registry)
            for event in page.events:
                for_event(fields, event)
            if n > 0:  # the first page of each warms up
                spent[entity] += time.perf_counter() - start
            bar.advance()
    bar.close()
    return (pages - 1) / spent[base], (pages - 1) / spent["product"]


def run(settings: Settings, report: Report) -> None:
    registry = _registry()
    txn_rows, batch_rows = (100, BATCH * 3) if settings.quick else (400, BATCH * 7)
    pages = 40 if settings.quick else 200
    report.notes.append("domain: inventory `product` (examples/inventory) against `twin`, "
                        "the same row in the demo's field types (target), and against the "
                        "demo's smaller `project` (for scale); one database, side by side")
    for backend in settings.backends:
        say(f"\n== domain on {backend}: {txn_rows} rows one per transaction, {batch_rows} "
            f"in transactions of {BATCH}, then {pages} timeline pages of 50, each side ==")
        engine = bench_engine(backend, "domain", fresh=True)
        session = Session(engine)
        figures: dict[str, list[tuple[str, tuple[float, float]]]] = {}
        try:
            clock = HybridClock()
            auditor = Auditor(registry, clock, init_node(session, "bench", clock))
            ids = {"team": auditor.execute(session, CreateRecord(
                       "team", {"slug": "bench", "name": "Bench"})).record["id"],
                   "supplier": auditor.execute(session, CreateRecord(
                       "supplier", {"name": "Acme", "rating": "a"})).record["id"]}
            for base in ("twin", "project"):
                rows = [(f"{mode} {op} rows/s", pair)
                        for mode, size, n in (("txn", 1, txn_rows), ("batch", BATCH, batch_rows))
                        for op, pair in _writes(auditor, session, n, size, ids, mode[0],
                                                base).items()]
                figures[base] = rows + [("timeline pages/s",
                                         _timeline(session, registry, pages, base))]
        finally:
            session.close()
            engine.dispose()
        for base, rows in figures.items():
            say(f"  {'product against ' + base:<28}{base:>12}{'product':>12}{'ratio':>8}")
            for name, (theirs, mine) in rows:
                ratio = mine / theirs
                say(f"  {name:<28}{theirs:>12,.0f}{mine:>12,.0f}{ratio:>8.2f}")
                target = base == "twin"
                report.add(Result("domain", f"product/{base} {name}", backend, ratio, "x",
                                  f">= {TARGET}" if target else "",
                                  ratio >= TARGET if target else None))
