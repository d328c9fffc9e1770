"""Two nodes on different schema versions of one entity, each with its own database:
OLD declares gadget v1 (code, price, note); NEW declares v2, where price was renamed
unit_price, colour was added and note removed, with one upcaster for the bump.

Gadgets are `manual`: a disputed field waits for an admin.

OLD -> NEW: OLD's events are upcast on arrival, stored as OLD wrote them, and merge
field by field with NEW's concurrent edits (the renamed field is the same field, not
one deleted and one added). NEW -> OLD: OLD cannot represent v2 events; its sync from
NEW stops at the first with an error naming the entity and both versions, nothing of
the batch is written, and the cursor stays before it. Once OLD is upgraded (its table
migrated, v2 declared) the same pull applies them and the two nodes converge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.replication_cluster import Node
from tests.support.databases import fresh_engine
from webapp.audit import (
    Decimal,
    Entity,
    Policy,
    Registry,
    Text,
    added,
    combined,
    removed,
    renamed,
)
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.lookups import get_tombstone
from webapp.audit.replication import list_conflicts, resolve_conflict
from webapp.audit.replication.chains import verify_chains
from webapp.audit.replication.errors import SchemaVersionError
from webapp.audit.store import record_events
from webapp.audit.tables import metadata
from webapp.audit.verify.recordcheck import check_records
from webapp.domain import registry as demo_registry

pytestmark = pytest.mark.slow

V1 = Entity(name="gadget", table_name="evo_gadgets_v1", policy=Policy.MANUAL, fields={
    "code": Text(label="Code", max_length=20, unique=True),
    "price": Decimal(label="Price", precision=10, scale=2),
    "note": Text(label="Note", max_length=200, required=False)})
V2 = Entity(name="gadget", table_name="evo_gadgets_v2", schema_version=2, policy=Policy.MANUAL,
            fields={
    "code": Text(label="Code", max_length=20, unique=True),
    "unit_price": Decimal(label="Unit price", precision=10, scale=2),
    "colour": Text(label="Colour", max_length=20, required=False)},
    upcasters={1: combined(renamed("price", "unit_price"), added("colour"), removed("note"))})
for _declared in (V1, V2):  # each node's database gets only the table it declares
    metadata.remove(_declared.table)


def _registry(gadget: Entity) -> Registry:
    made = Registry()
    for entity in (*demo_registry, gadget):
        made.register(entity)
    return made


OLD_REGISTRY, NEW_REGISTRY = _registry(V1), _registry(V2)


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    old = Node("old", fresh_engine(str(request.param), "evo_old", tmp_path), OLD_REGISTRY)
    new = Node("new", fresh_engine(str(request.param), "evo_new", tmp_path), NEW_REGISTRY)
    for node, table in ((old, V1.table), (new, V2.table)):
        with node.engine.begin() as conn:
            for stale in (V1.table, V2.table):
                stale.drop(conn, checkfirst=True)
        table.create(node.engine)
        node.start()
    yield old, new
    for node in (old, new):
        node.session.close()
        node.engine.dispose()


def upgrade(node: Node) -> None:
    """What `flask db upgrade -d <domain migrations>` and the new declaration do: the
    table migrated (price renamed, colour added, note dropped), v2 served."""
    node.session.close()
    V2.table.create(node.engine)
    with node.engine.begin() as conn:
        rows = conn.execute(sa.select(V1.table)).mappings().all()
        if rows:
            conn.execute(V2.table.insert(), [
                {**{k: r[k] for k in ("id", "version", "vv", "hlc", "origin_node_id", "code")},
                 "unit_price": r["price"], "colour": None} for r in rows])
        V1.table.drop(conn)
    node.registry = NEW_REGISTRY
    node.start()


def gadget(node: Node, record_id: str) -> dict[str, Any] | None:
    found = node.record("gadget", record_id)
    return None if found is None else {k: found[k] for k in ("id", *V2.fields)}


def verified(node: Node) -> None:
    """`flask audit verify`'s checks: every chain intact, every record equal to what its
    (upcast) events say, old events and all."""
    assert verify_chains(node.session) == []
    assert [b for _, b in check_records(node.session, node.registry) if b is not None] == []
    node.session.rollback()


def test_an_older_peer_keeps_syncing_and_converges_once_upgraded(
        pair: tuple[Node, Node]) -> None:
    old, new = pair
    made = old.run(CreateRecord("gadget", {"code": "g1", "price": "10", "note": "fragile"}))
    gone = old.run(CreateRecord("gadget", {"code": "g2", "price": "3", "note": "spare"}))
    assert made.record is not None and gone.record is not None
    g1, g2 = made.record["id"], gone.record["id"]
    old.run(DeleteRecord("gadget", g2, 1))

    # OLD -> NEW: upcast on arrival, stored as sent.
    assert new.pull(old).applied == 3
    assert gadget(new, g1) == {"id": g1, "code": "g1", "unit_price": "10.00", "colour": None}
    stored = new.log()[0]
    assert stored.schema_version == 1 and stored.post_state == made.event.post_state  # type: ignore[union-attr]
    assert stored.hash == old.log()[0].hash
    tomb = get_tombstone(new.session, "gadget", g2, NEW_REGISTRY)
    assert tomb is not None and tomb.last_state == {
        "id": g2, "code": "g2", "unit_price": "3.00", "colour": None}

    # Concurrent edits on both versions: each side's field kept, none lost.
    old.run(UpdateRecord("gadget", g1, 1, {"price": "12.5", "note": "very fragile"}))
    new.run(UpdateRecord("gadget", g1, 1, {"colour": "red"}))
    new_team = new.run(CreateRecord("team", {"slug": "blue", "name": "Blue"})).record
    assert new_team is not None
    assert new.pull(old).applied == 1
    assert gadget(new, g1) == {"id": g1, "code": "g1", "unit_price": "12.50", "colour": "red"}
    assert list_conflicts(new.session, limit=10) == []  # no disputed field
    new.session.rollback()

    # NEW -> OLD: refused, naming the entity and both versions; nothing written.
    before = (old.event_ids(), old.replicator.cursor(old.session, new.node_id))
    with pytest.raises(SchemaVersionError,
                       match=r"gadget schema version 2 is newer than this node's \(1\)"):
        old.pull(new)
    old.session.rollback()
    assert (old.event_ids(), old.replicator.cursor(old.session, new.node_id)) == before
    assert old.record("team", new_team["id"]) is None  # it waits behind the refused event
    assert gadget_v1(old, g1)["price"] == "12.50"

    # OLD keeps writing meanwhile, and NEW keeps taking it.
    old.run(UpdateRecord("gadget", g1, 2, {"code": "g1-b"}))
    assert new.pull(old).applied == 1
    assert gadget(new, g1) == {"id": g1, "code": "g1-b", "unit_price": "12.50", "colour": "red"}

    # OLD upgraded: the same pull now applies, and the two converge.
    upgrade(old)
    report = old.pull(new)
    assert report.applied >= 2
    assert old.record("team", new_team["id"]) is not None
    for node in (old, new):
        assert gadget(node, g1) == {"id": g1, "code": "g1-b", "unit_price": "12.50",
                                    "colour": "red"}
        tomb = get_tombstone(node.session, "gadget", g2, NEW_REGISTRY)
        assert tomb is not None and tomb.last_state == {
            "id": g2, "code": "g2", "unit_price": "3.00", "colour": None}
        node.session.rollback()
        verified(node)
    new.pull(old)
    assert old.event_ids() == new.event_ids()
    assert upcast_rows(old) == upcast_rows(new)
    # Every node reads the old events as v2, in every record history.
    history = record_events(new.session, "gadget", g1, registry=NEW_REGISTRY).events
    assert {e.schema_version for e in history} == {2}
    assert all(set(e.post_state or {}) == {"id", *V2.fields} for e in history)
    new.session.rollback()


def gadget_v1(node: Node, record_id: str) -> dict[str, Any]:
    found = node.record("gadget", record_id)
    assert found is not None
    return found


def upcast_rows(node: Node) -> dict[str, Any]:
    """What the nodes must agree on: rows, tombstones (read at the current schema), heads
    and conflicts."""
    out = node.snapshot()
    out["tombstones"] = [
        {**{k: v for k, v in t.items() if k not in ("last_state", "schema_version")},
         "state": (get_tombstone(node.session, t["entity"], t["record_id"],
                                 node.registry) or _missing()).last_state}
        for t in out["tombstones"]]
    node.session.rollback()
    return out


def _missing() -> Any:
    raise AssertionError("a tombstone listed is not found")


def gadget_conflicts(node: Node) -> list[tuple[str, tuple[str, ...] | None]]:
    found = [(c.status, c.disputed) for status in ("open", "auto", "merged", "resolved")
             for c in list_conflicts(node.session, status=status, entity="gadget", limit=100)]
    node.session.rollback()
    return found


def test_the_renamed_field_changed_on_both_versions_is_one_disputed_field(
        pair: tuple[Node, Node]) -> None:
    """Merged at the current schema: price on OLD and unit_price on NEW are one field,
    so the collision disputes it alone (lww: the greater change wins on both nodes),
    and the field only one side changed keeps that side's value."""
    old, new = pair
    made = old.run(CreateRecord("gadget", {"code": "g1", "price": "10"})).record
    assert made is not None
    new.pull(old)
    new.run(UpdateRecord("gadget", made["id"], 1, {"unit_price": "11"}))
    old.run(UpdateRecord("gadget", made["id"], 1, {"price": "12.5", "code": "g1-old"}))
    new.pull(old)
    [(status, disputed)] = gadget_conflicts(new)
    assert disputed == ("unit_price",)
    upgrade(old)
    old.pull(new)
    new.pull(old)
    winner = {"id": made["id"], "code": "g1-old", "unit_price": "12.50", "colour": None}
    for node in (old, new):  # OLD's change is the later one: it wins the disputed field
        assert gadget(node, made["id"]) == winner
        assert gadget_conflicts(node) == [(status, ("unit_price",))]
        verified(node)
    assert upcast_rows(old) == upcast_rows(new)


def test_a_deletion_kept_after_an_upgrade_removes_the_state_at_the_new_schema(
        pair: tuple[Node, Node], tmp_path: Path) -> None:
    """An update against a delete, both at v1, still open when OLD upgrades: keeping the
    deletion writes an event (v2) whose removed state is the tombstone's, upcast."""
    old, new = pair
    third = Node("third", fresh_engine("sqlite", "evo_third", tmp_path), OLD_REGISTRY)
    with third.engine.begin() as conn:
        V2.table.drop(conn, checkfirst=True)
        V1.table.drop(conn, checkfirst=True)
    V1.table.create(third.engine)
    third.start()
    try:
        made = old.run(CreateRecord("gadget", {"code": "g3", "price": "5", "note": "n"}))
        assert made.record is not None
        g3 = made.record["id"]
        third.pull(old)
        third.run(UpdateRecord("gadget", g3, 1, {"note": "keep it"}))
        old.run(DeleteRecord("gadget", g3, 1))  # the later change: the provisional winner
        old.pull(third)
        [conflict] = list_conflicts(old.session, entity="gadget")
        old.session.rollback()
        upgrade(old)
        done = resolve_conflict(old.auditor, old.session, conflict.conflict_id, None,
                                conflict.version)
        assert done.event is not None and done.event.schema_version == 2
        assert done.event.pre_state == {"id": g3, "code": "g3", "unit_price": "5.00",
                                        "colour": None}
        assert list_conflicts(old.session, entity="gadget") == []
        old.session.rollback()
        new.pull(old)
        for node in (old, new):
            assert node.record("gadget", g3) is None
            tomb = get_tombstone(node.session, "gadget", g3, NEW_REGISTRY)
            assert tomb is not None and tomb.last_state == done.event.pre_state
            node.session.rollback()
            verified(node)
    finally:
        third.session.close()
        third.engine.dispose()
