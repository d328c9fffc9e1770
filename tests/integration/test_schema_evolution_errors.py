"""An upcaster that fails on a stored event (a declaration bug: written for states, it
reads a field params lack) is named, with its entity, versions and event, wherever the
event is upcast: a sync refuses the batch with that reason and writes nothing; a reader
raises an UpcastError saying the same, not a bare KeyError."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.replication_cluster import Node
from tests.integration.test_schema_evolution_sync import OLD_REGISTRY, V1, V2
from tests.support.databases import fresh_engine
from webapp.audit import Entity, Policy, Registry
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.errors import UpcastError
from webapp.audit.replication.errors import PayloadError
from webapp.audit.store import record_events
from webapp.audit.tables import metadata
from webapp.domain import registry as demo_registry
from webapp.sync.puller import SyncResult, describe

pytestmark = pytest.mark.slow


def _states_only(doc: dict[str, Any]) -> dict[str, Any]:
    """Wrong: an update's params have no "price"."""
    doc = {k: v for k, v in doc.items() if k != "note"}
    doc["unit_price"] = doc.pop("price")
    return {**doc, "colour": None}


BAD = Entity(name="gadget", table_name="evo_gadgets_bad", schema_version=2,
             policy=Policy.MANUAL, fields=dict(V2.fields), upcasters={1: _states_only})
metadata.remove(BAD.table)
BAD_REGISTRY = Registry()
for _entity in (*demo_registry, BAD):
    BAD_REGISTRY.register(_entity)


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    made = []
    for name, registry, table in (("old", OLD_REGISTRY, V1.table),
                                  ("bad", BAD_REGISTRY, BAD.table)):
        node = Node(name, fresh_engine(str(request.param), "evo_" + name, tmp_path), registry)
        with node.engine.begin() as conn:
            for stale in (V1.table, V2.table, BAD.table):
                stale.drop(conn, checkfirst=True)
        table.create(node.engine)
        node.start()
        made.append(node)
    yield made[0], made[1]
    for node in made:
        node.session.close()
        node.engine.dispose()


def test_a_failing_upcaster_is_named_and_the_batch_refused(nodes: tuple[Node, Node]) -> None:
    old, bad = nodes
    made = old.run(CreateRecord("gadget", {"code": "g1", "price": "10"})).record
    assert made is not None
    edit = old.run(UpdateRecord("gadget", made["id"], 1, {"note": "x"})).event
    assert edit is not None
    with pytest.raises(PayloadError) as refused:
        bad.pull(old)
    bad.session.rollback()
    assert refused.value.event_id == edit.event_id
    assert "gadget upcaster 1\u21922 failed on this event: KeyError 'price'" in str(refused.value)
    shown = describe(refused.value, SyncResult("old", node_id=old.node_id))
    assert "upcaster 1\u21922" in shown and edit.event_id in shown and "unexpected" not in shown
    assert bad.log() == [] and bad.replicator.cursor(bad.session, old.node_id) == 0


def test_a_reader_names_the_event_its_upcaster_fails_on(nodes: tuple[Node, Node]) -> None:
    old, bad = nodes
    made = old.run(CreateRecord("gadget", {"code": "g1", "price": "10"})).record
    assert made is not None
    edit = old.run(UpdateRecord("gadget", made["id"], 1, {"note": "x"})).event
    assert edit is not None
    with pytest.raises(UpcastError, match=rf"gadget upcaster 1\u21922 failed on event "
                                          rf"{edit.event_id}: KeyError 'price'"):
        record_events(old.session, "gadget", made["id"], registry=BAD_REGISTRY)
    old.session.rollback()


def _project_schema_2() -> Registry:
    """The demo registry with project at v2, whose upcaster makes a name longer than the
    field allows: a rule an event parked at v1 does not meet once upcast."""
    upgraded = Registry()
    for entity in demo_registry:
        if entity.name == "project":
            entity = copy.copy(entity)  # the same table
            entity.schema_version = 2
            entity.upcasters = {1: lambda doc: {**doc, "name": doc["name"] * 200}
                                if "name" in doc else doc}
        upgraded.register(entity)
    return upgraded


@pytest.fixture(params=["sqlite", "postgresql"])
def trio(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Node]]:
    made = [Node(name, fresh_engine(str(request.param), "evo_" + name, tmp_path))
            for name in ("pa", "pb", "pc")]
    for node in made:
        node.start()
    yield made
    for node in made:
        node.session.close()
        node.engine.dispose()


def test_a_parked_event_released_after_an_upgrade_is_checked_by_todays_rules(
        trio: list[Node]) -> None:
    a, b, c = trio
    team = a.run(CreateRecord("team", {"slug": "t", "name": "T"})).record
    assert team is not None
    b.pull(a)
    project = b.run(CreateRecord("project", {"name": "P", "team_id": team["id"],
                                             "status": "planned"})).event
    assert project is not None
    log = b.log()
    assert c.receive(b, log[-1:], log[-1].seq or 0).parked == 1  # it waits for its team
    c.registry = _project_schema_2()
    c.start()
    with pytest.raises(PayloadError, match=r"project\.name .*longer|project\.name") as refused:
        c.pull(a)  # the team arrives and would release the project
    c.session.rollback()
    assert refused.value.event_id == project.event_id
    assert c.record("team", team["id"]) is None and c.parked() == 1
