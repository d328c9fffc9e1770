"""The upcasters a declaration's changes are written with: a whole state (it has an
"id") and a command's params come out as the next schema version has them."""

from __future__ import annotations

from webapp.audit import Decimal, Entity, Text, added, combined, removed, renamed
from webapp.audit.tables import metadata

STEP = combined(renamed("price", "unit_price"), added("colour", "grey"), removed("note"))


def test_one_bump_may_rename_add_and_remove_fields_in_order() -> None:
    state = {"id": "r", "code": "a", "price": "1.50", "note": "x"}
    assert STEP(dict(state)) == {"id": "r", "code": "a", "unit_price": "1.50", "colour": "grey"}
    # Params hold only what a command asked: nothing is added to them.
    assert STEP({"price": "2.00", "note": "y"}) == {"unit_price": "2.00"}
    assert STEP({"code": "b"}) == {"code": "b"}


def test_an_entity_upcasts_through_every_version_from_the_one_written() -> None:
    entity = Entity(name="upcast_steps", schema_version=3, fields={
        "code": Text(), "unit_price": Decimal(precision=8, scale=2)},
        upcasters={1: added("note"), 2: combined(renamed("price", "unit_price"),
                                                 removed("note"))})
    metadata.remove(entity.table)
    assert entity.upcast({"id": "r", "code": "a", "price": "1.00"}, 1) == {
        "id": "r", "code": "a", "unit_price": "1.00"}
    assert entity.upcast({"id": "r", "code": "a", "price": "1.00", "note": None}, 2) == {
        "id": "r", "code": "a", "unit_price": "1.00"}
    current = {"id": "r", "code": "a", "unit_price": "1.00"}
    assert entity.upcast(current, 3) == current and entity.upcast(None, 1) is None
