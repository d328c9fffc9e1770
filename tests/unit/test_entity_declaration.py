"""Declaring an entity: one declaration gives its table, params and policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from webapp.audit import Entity, Policy, Registry
from webapp.audit.errors import UnknownEntityError
from webapp.audit.params import Ref, Slug, Text
from webapp.audit.tables import metadata
from webapp.domain import registry


@contextmanager
def declared(**kwargs) -> Iterator[Entity]:
    """Declare a probe entity and take its table off the shared metadata again."""
    entity = Entity(**kwargs)
    try:
        yield entity
    finally:
        metadata.remove(entity.table)


def test_the_table_is_built_from_the_fields():
    with declared(name="gadget", fields={
            "code": Slug(unique=True), "note": Text(required=False, max_length=50_000),
            "team_id": Ref(entity="team")}) as gadget:
        table = gadget.table
        assert table.name == "gadgets" and gadget.label == "Gadget" and gadget.plural == "Gadgets"
        assert [c.name for c in table.columns] == [
            "id", "version", "vv", "hlc", "origin_node_id", "code", "note", "team_id"]
        assert table.c.code.unique and not table.c.code.nullable
        assert table.c.note.nullable
        assert "LONGTEXT" in str(table.c.note.type.compile(dialect=mysql.dialect()))
        assert table.c.team_id.index
        assert isinstance(table.c.hlc.type, sa.BigInteger)
        assert gadget.unique_fields == ("code",) and gadget.refs == {"team_id": "team"}
        assert gadget.secret_fields == frozenset()
        with pytest.raises(TypeError):  # shared by every command: nobody may change it
            gadget.refs["note"] = "team"  # type: ignore[index]
        assert gadget.policy is Policy.LWW and gadget.title_field == "code"


@pytest.mark.parametrize("name", ["id", "version", "vv", "hlc", "origin_node_id"])
def test_a_field_may_not_take_a_system_column_name(name):
    with pytest.raises(ValueError, match="is a system column"):
        Entity(name="probe", table_name=f"probe_{name}", fields={name: Text()})
    assert f"probe_{name}" not in metadata.tables


def test_an_entity_needs_fields_and_an_upcaster_for_every_older_schema():
    with pytest.raises(ValueError, match="at least one field"):
        Entity(name="empty", fields={})
    with pytest.raises(ValueError, match=r"no upcaster from schema version\(s\) \[2\]"):
        Entity(name="old", schema_version=3, upcasters={1: dict}, fields={"a": Text()})


def test_the_registry_refuses_a_second_entity_of_one_name():
    again = Registry()
    again.register(registry.get("team"))
    with pytest.raises(ValueError, match="registered twice"):
        again.register(registry.get("team"))


@pytest.mark.parametrize("name", ["spaceship", "", "TEAM", None, ["team"], 7])
def test_an_unknown_entity_name_is_a_clear_error(name):
    assert name not in registry
    with pytest.raises(UnknownEntityError, match="unknown entity"):
        registry.get(name)


def test_the_demo_domain_declares_both_policies():
    policies = {e.name: e.policy for e in registry}
    assert set(policies) >= {"user", "team", "project", "setting"}
    assert set(policies.values()) == {Policy.LWW, Policy.MANUAL}
