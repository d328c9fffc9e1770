"""A domain whose declaration evolves in steps (EVOLVING_STEP=1..4), as a team's would:
1 declares parts; 2 adds a note; 3 renames price to unit_price; 4 removes the note.
Its migrations (one per step) are in evolving_migrations/, made with the documented
commands (`flask domain init-migrations`, `flask db migrate -d ...`)."""

from __future__ import annotations

import os

from webapp.audit import Decimal, Entity, Registry, Text, Upcaster, added, removed, renamed

STEP = int(os.environ.get("EVOLVING_STEP", "4"))
UPCASTERS: dict[int, Upcaster] = {1: added("note"), 2: renamed("price", "unit_price"),
                                  3: removed("note")}


def register(registry: Registry) -> None:
    price = "price" if STEP < 3 else "unit_price"
    fields = {"code": Text(label="Code", max_length=20, unique=True),
              price: Decimal(label="Price", precision=10, scale=2)}
    if STEP in (2, 3):
        fields["note"] = Text(label="Note", max_length=200, required=False)
    registry.register(Entity(
        name="part", table_name="evolving_parts", fields=fields, schema_version=STEP,
        upcasters={v: up for v, up in UPCASTERS.items() if v < STEP}))
