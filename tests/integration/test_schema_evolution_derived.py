"""Conflicts and unique renames computed before a node's upgrade are computed again at
the new schema, so the node agrees with a peer that was upgraded first.

Both nodes hold the same events; one merged them at v1, the other at v2. Without
settling again, the upgraded node kept the v1 names (a conflict disputing `note`, a
field v2 removed, stays open where the peer holds it merged; `price` where the peer
says `unit_price`; a unique rename of `code` where the peer has `sku`, and an open
unique conflict the peer closed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.replication_cluster import Node
from tests.integration.test_schema_evolution_sync import (
    OLD_REGISTRY,
    V1,
    V2,
    gadget,
    pair,  # noqa: F401  (the fixture)
    upgrade,
)
from tests.support.databases import fresh_engine
from webapp.audit import Decimal, Entity, Policy, Registry, Text, renamed
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.replication import list_conflicts
from webapp.audit.replication.tables import unique_renames
from webapp.audit.tables import metadata
from webapp.domain import registry as demo_registry

pytestmark = pytest.mark.slow

W1 = Entity(name="widget", table_name="evo_widgets_v1", policy=Policy.LWW, fields={
    "code": Text(label="Code", max_length=40, unique=True),
    "price": Decimal(label="Price", precision=10, scale=2)})
W2 = Entity(name="widget", table_name="evo_widgets_v2", schema_version=2, policy=Policy.LWW,
            fields={"sku": Text(label="SKU", max_length=40, unique=True),
                    "price": Decimal(label="Price", precision=10, scale=2)},
            upcasters={1: renamed("code", "sku")})
for _declared in (W1, W2):
    metadata.remove(_declared.table)


def _registry(widget: Entity) -> Registry:
    made = Registry()
    for entity in (*demo_registry, widget):
        made.register(entity)
    return made


W_OLD, W_NEW = _registry(W1), _registry(W2)


def derived(node: Node, entity: str) -> dict[str, Any]:
    """What nodes holding the same events must agree on beyond rows: every conflict
    (every status but superseded, a passing state of one node's arrival order) with
    its disputed fields and each side's changed and lost fields, and the renames."""
    found = sorted(
        (c.conflict_id, c.kind, c.status, c.field, c.disputed, c.winner_event_id,
         tuple(sorted((s.event_id, s.fields, s.lost) for s in c.sides)))
        for status in ("open", "auto", "merged", "resolved")
        for c in list_conflicts(node.session, status=status, entity=entity, limit=100))
    renames = [tuple(r) for r in node.session.execute(
        sa.select(unique_renames).order_by(unique_renames.c.record_id))]
    node.session.rollback()
    return {"conflicts": found, "renames": renames}


def _node(name: str, backend: str, tmp_path: Path, registry: Registry,
          table: sa.Table, stale: tuple[sa.Table, ...]) -> Node:
    node = Node(name, fresh_engine(backend, "evo_" + name, tmp_path), registry)
    with node.engine.begin() as conn:
        for old in stale:
            old.drop(conn, checkfirst=True)
    table.create(node.engine)
    node.start()
    return node


@pytest.fixture
def third(pair: tuple[Node, Node], tmp_path: Path) -> Iterator[Node]:  # noqa: F811
    backend = pair[0].engine.dialect.name
    node = _node("third", "postgresql" if backend == "postgresql" else "sqlite",
                 tmp_path, OLD_REGISTRY, V1.table, (V1.table, V2.table))
    yield node
    node.session.close()
    node.engine.dispose()


@pytest.mark.parametrize(("field", "mine", "theirs", "expected"), [
    ("note", "a", "b", ("merged", ())),  # note is gone at v2: nothing disputed
    ("price", "11", "12", ("open", ("unit_price",))),  # the same field, renamed
])
def test_a_conflict_merged_before_the_upgrade_is_merged_again_at_the_new_schema(
        pair: tuple[Node, Node], third: Node, field: str, mine: str,  # noqa: F811
        theirs: str, expected: tuple[str, tuple[str, ...]]) -> None:
    old, new = pair
    made = old.run(CreateRecord("gadget", {"code": "g1", "price": "10", "note": "n"})).record
    assert made is not None
    gid = made["id"]
    third.pull(old)
    new.pull(old)
    old.run(UpdateRecord("gadget", gid, 1, {field: mine}))
    third.run(UpdateRecord("gadget", gid, 1, {field: theirs}))
    old.pull(third)  # OLD merges the collision at v1
    new.pull(old)  # NEW the same events at v2
    upgrade(old)
    old.pull(new)
    new.pull(old)
    assert old.event_ids() == new.event_ids()
    assert gadget(old, gid) == gadget(new, gid)
    assert derived(old, "gadget") == derived(new, "gadget")
    [(_, _, status, _, disputed, _, sides)] = derived(old, "gadget")["conflicts"]
    assert (status, disputed) == expected
    # The conflict page marks the field each side changed, by its current name.
    assert {f for _, changed, _ in sides for f in changed or ()} == {
        "unit_price" if field == "price" else field} - {"note"}


@pytest.fixture(params=["sqlite", "postgresql"])
def widgets(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Node]]:
    stale = (W1.table, W2.table)
    nodes = {name: _node("w" + name, str(request.param), tmp_path, registry, table, stale)
             for name, registry, table in (("old", W_OLD, W1.table), ("third", W_OLD, W1.table),
                                           ("new", W_NEW, W2.table))}
    yield nodes
    for node in nodes.values():
        node.session.close()
        node.engine.dispose()


def _upgrade_widgets(node: Node) -> None:
    node.session.close()
    W2.table.create(node.engine)
    with node.engine.begin() as conn:
        rows = conn.execute(sa.select(W1.table)).mappings().all()
        conn.execute(W2.table.insert(), [
            {**{k: r[k] for k in ("id", "version", "vv", "hlc", "origin_node_id", "price")},
             "sku": r["code"]} for r in rows])
        W1.table.drop(conn)
    node.registry = W_NEW
    node.start()


def _rows(node: Node) -> list[dict[str, Any]]:
    return node.snapshot()["widget"]


def test_a_unique_rename_made_before_the_upgrade_follows_the_renamed_field(
        widgets: dict[str, Node]) -> None:
    old, third, new = widgets["old"], widgets["third"], widgets["new"]
    old.run(CreateRecord("widget", {"code": "x", "price": "1"}))
    third.run(CreateRecord("widget", {"code": "x", "price": "2"}))
    old.pull(third)  # the collision settled at v1: the loser suffixed, `code` renamed
    new.pull(old)  # and at v2: `sku`
    _upgrade_widgets(old)
    old.pull(new)
    assert derived(old, "widget") == derived(new, "widget")
    [(_, kind, status, field, *_)] = derived(old, "widget")["conflicts"]
    assert (kind, status, field) == ("unique_collision", "open", "sku")

    # NEW gives the loser a name of its own: the collision closes on both nodes.
    loser = next(r for r in _rows(new) if r["sku"] != "x")
    new.run(UpdateRecord("widget", loser["id"], loser["version"], {"sku": "y"}))
    old.pull(new)
    assert _rows(old) == _rows(new)
    assert derived(old, "widget") == derived(new, "widget")
    assert derived(old, "widget")["renames"] == []
    assert [c[2] for c in derived(old, "widget")["conflicts"]] == ["resolved"]

    # Concurrent edits of the loser afterwards merge the same way on both.
    mine = next(r for r in _rows(old) if r["id"] == loser["id"])
    old.run(UpdateRecord("widget", mine["id"], mine["version"], {"price": "7"}))
    new.run(UpdateRecord("widget", mine["id"], mine["version"], {"sku": "z"}))
    new.pull(old)
    old.pull(new)
    assert old.event_ids() == new.event_ids()
    assert _rows(old) == _rows(new)
    assert {r["sku"] for r in _rows(old)} == {"x", "z"}
    assert derived(old, "widget") == derived(new, "widget")
