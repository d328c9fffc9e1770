"""Entity declarations: one per record type, and the registry that holds them.

A declaration names the entity by a stable type name (stored in events), lists its
typed fields, its conflict policy and schema version, and builds its table from the
fields, so a field is written down once."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from .errors import UnknownEntityError
from .params import Param, ParamSet, Ref
from .tables import TABLE_ARGS, metadata

# An upcaster turns an event's state or params dict of schema version v into v + 1.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


# Columns every entity table has; a declared field may not reuse their names.
SYSTEM_FIELDS = ("id", "version", "vv", "hlc", "origin_node_id")


class Policy(str, Enum):  # noqa: UP042 (StrEnum would change how a policy prints)
    LWW = "lww"
    MANUAL = "manual"


@dataclass
class Entity:
    name: str
    fields: Mapping[str, Param]
    policy: Policy = Policy.LWW
    schema_version: int = 1
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)
    title_field: str = ""
    label: str = ""
    plural: str = ""
    table_name: str = ""
    search_fields: tuple[str, ...] = ()
    filter_fields: tuple[str, ...] = ()
    # Written by the app itself (the access log), never through the record pages: its
    # events chain, sign and replicate like any other, but no one edits or lists it.
    system: bool = False
    # Derived from `fields` once: the write path reads them for every command and row.
    params: ParamSet = field(init=False, repr=False)
    unique_fields: tuple[str, ...] = field(init=False, repr=False)
    refs: Mapping[str, str] = field(init=False, repr=False)  # field -> entity it names
    secret_fields: frozenset[str] = field(init=False, repr=False)
    state_keys: frozenset[str] = field(init=False, repr=False)  # a full state's: id + fields
    table: sa.Table = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError(f"{self.name}: an entity needs at least one field")
        if clash := sorted(set(self.fields) & set(SYSTEM_FIELDS)):
            raise ValueError(f"{self.name}: {clash} are system columns, not fields")
        self.label = self.label or self.name.replace("_", " ").capitalize()
        self.plural = self.plural or self.label + "s"
        self.table_name = self.table_name or self.name + "s"
        self.title_field = self.title_field or next(iter(self.fields))
        missing = set(range(1, self.schema_version)) - set(self.upcasters)
        if missing:
            raise ValueError(f"{self.name}: no upcaster from schema version(s) {sorted(missing)}")
        self.params = ParamSet(self.fields)
        self.unique_fields = tuple(name for name, p in self.fields.items() if p.unique)
        self.refs = MappingProxyType(
            {name: p.entity for name, p in self.fields.items() if isinstance(p, Ref)})
        self.secret_fields = frozenset(name for name, p in self.fields.items() if p.secret)
        self.state_keys = frozenset({"id", *self.fields})
        self.table = self._build_table()

    def _build_table(self) -> sa.Table:
        columns = [
            sa.Column(name, param.column_type(), nullable=not param.required,
                      unique=param.unique or None, index=isinstance(param, Ref) or None)
            for name, param in self.fields.items()
        ]
        return sa.Table(
            self.table_name,
            metadata,
            sa.Column("id", sa.String(26), primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("vv", sa.Text, nullable=False),
            sa.Column("hlc", sa.BigInteger, nullable=False),
            sa.Column("origin_node_id", sa.String(26), nullable=False),
            *columns,
            **TABLE_ARGS,
        )

    def upcast(self, doc: dict[str, Any] | None, from_version: int) -> dict[str, Any] | None:
        """Bring a stored state or params dict up to the current schema version."""
        if doc is None:
            return None
        for version in range(from_version, self.schema_version):
            doc = self.upcasters[version](dict(doc))
        return doc


class Registry:
    def __init__(self) -> None:
        self._entities: dict[str, Entity] = {}

    def register(self, entity: Entity) -> Entity:
        if entity.name in self._entities:
            raise ValueError(f"entity {entity.name!r} is registered twice")
        self._entities[entity.name] = entity
        return entity

    def get(self, name: str) -> Entity:
        try:
            return self._entities[name]
        except (KeyError, TypeError):
            raise UnknownEntityError(f"unknown entity {str(name)[:40]!r}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entities

    def __iter__(self) -> Iterator[Entity]:
        return iter(self._entities.values())
