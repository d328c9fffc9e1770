"""An inventory, audited by Hindsight: suppliers, warehouses, products and the stock
movements between them. Served with

    PYTHONPATH=examples HINDSIGHT_DOMAIN=inventory.domain flask --app wsgi run

Its tables have their own migrations (migrations/ beside this file); see the README's
"Your own records" for the steps."""

from webapp.audit import (
    URL,
    Boolean,
    Choice,
    Date,
    DateTime,
    Decimal,
    Email,
    Entity,
    Integer,
    Policy,
    Ref,
    Registry,
    Slug,
    Text,
)

MOVEMENTS = (("in", "Received"), ("out", "Shipped"), ("count", "Stock count"))
RATINGS = (("a", "Preferred"), ("b", "Approved"), ("c", "On probation"))


def register(registry: Registry) -> None:
    registry.register(Entity(
        name="supplier",
        fields={
            "name": Text(label="Name", max_length=120, unique=True),
            "rating": Choice(label="Rating", choices=RATINGS),
            "website": URL(label="Website", required=False),
            "email": Email(label="Orders email", required=False),
            "since": Date(label="Supplier since", required=False),
        },
        policy=Policy.MANUAL,  # two buyers changing one supplier: a person decides
        search_fields=("name", "website"),
        filter_fields=("rating",),
    ))
    registry.register(Entity(
        name="warehouse",
        fields={
            "code": Slug(label="Code", max_length=20, unique=True),
            "name": Text(label="Name", max_length=120),
            "capacity": Integer(label="Capacity (units)", min_value=0, max_value=10_000_000),
        },
        title_field="name",
        edit_role="admin",  # opening or closing a warehouse is an admin's call
    ))
    registry.register(Entity(
        name="product",
        fields={
            "sku": Slug(label="SKU", max_length=40, unique=True, help="e.g. bolt-m8-40"),
            "name": Text(label="Name", max_length=120),
            "supplier_id": Ref(label="Supplier", entity="supplier", required=False),
            "unit_price": Decimal(label="Unit price (EUR)", precision=12, scale=2,
                                  min_value="0"),
            "weight_kg": Decimal(label="Weight (kg)", precision=9, scale=3, required=False),
            "datasheet": URL(label="Datasheet", required=False),
            "discontinued": Boolean(label="Discontinued"),
        },
        title_field="name",
        search_fields=("sku", "name"),
        filter_fields=("supplier_id", "discontinued"),
        list_columns=("name", "sku", "unit_price", "supplier_id", "discontinued"),
    ))
    registry.register(Entity(
        name="movement",
        label="Stock movement",
        fields={
            "reference": Text(label="Reference", max_length=40, help="Delivery note or order"),
            "kind": Choice(label="Kind", choices=MOVEMENTS),
            "product_id": Ref(label="Product", entity="product"),
            "warehouse_id": Ref(label="Warehouse", entity="warehouse"),
            "quantity": Integer(label="Quantity", min_value=-1_000_000, max_value=1_000_000),
            "moved_at": DateTime(label="Moved at"),
            "unit_cost": Decimal(label="Unit cost (EUR)", precision=12, scale=4, required=False),
            "note": Text(label="Note", max_length=2000, required=False, multiline=True),
        },
        search_fields=("reference", "note"),
        filter_fields=("kind", "warehouse_id", "product_id"),
        list_columns=("reference", "kind", "product_id", "warehouse_id", "quantity", "moved_at"),
    ))
