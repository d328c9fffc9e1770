"""A probe entity with every business field type, for tests of the types end to end.
Its tables are kept off the shared metadata (migrations and other tests never see them);
the tests that use it create them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from webapp.audit import (
    URL,
    Choice,
    Date,
    DateTime,
    Decimal,
    Entity,
    Integer,
    Policy,
    Ref,
    Registry,
    Text,
)
from webapp.audit.tables import metadata
from webapp.domain import registry as demo_registry

suppliers = Entity(name="lsupplier", label="Supplier", table_name="probe_lsuppliers",
                   fields={"name": Text(label="Name", max_length=80)}, edit_role="admin")
ledger = Entity(
    name="ledger",
    label="Ledger line",
    table_name="probe_ledger",
    fields={
        "title": Text(label="Title", max_length=80),
        "booked_on": Date(label="Booked on"),
        "due_at": DateTime(label="Due at", required=False),
        "amount": Decimal(label="Amount", precision=12, scale=2),
        "rate": Decimal(label="Rate", precision=30, scale=10, required=False),
        "quantity": Integer(label="Quantity", min_value=0, max_value=10**12),
        "link": URL(label="Link", required=False),
        "direction": Choice(label="Direction", choices=(("in", "Received"), ("out", "Shipped"))),
        "supplier_id": Ref(label="Supplier", entity="lsupplier", required=False,
                           help="Leave empty for an internal movement."),
    },
    policy=Policy.LWW,
    filter_fields=("direction", "supplier_id"),
    list_columns=("title", "direction", "amount", "due_at", "link", "supplier_id"),
)
for declared in (suppliers, ledger):
    metadata.remove(declared.table)
TABLES = (suppliers.table, ledger.table)

with_ledger = Registry()
for declared in (*demo_registry, suppliers, ledger):
    with_ledger.register(declared)

LINE = {
    "title": "Bolts", "booked_on": "2026-12-07", "due_at": "2026-12-07T11:30:00+01:00",
    "amount": "1234567890.5", "rate": "12345678901234567890.0123456789",
    "quantity": str(10**12), "link": "https://supplier.example/bolts?id=7",
    "direction": "in", "supplier_id": None,
}
# LINE as every node stores and sends it: canonical text for every value.
STORED = {**LINE, "due_at": "2026-12-07T10:30:00Z", "amount": "1234567890.50",
          "quantity": 10**12}


@contextmanager
def served(registry: Registry, engine: sa.Engine) -> Iterator[None]:
    """The probe entities served by an app (whose Auditor holds `registry`), with their
    tables made in its database; the registry is as before afterwards."""
    for table in TABLES:
        table.create(engine)
    for entity in (suppliers, ledger):
        registry.register(entity)
    try:
        yield
    finally:
        for entity in (suppliers, ledger):
            del registry._entities[entity.name]  # test-only: the app's registry is shared
