"""Entity declarations: one per record type, and the registry that holds them.

A declaration names the entity by a stable type name (stored in events), lists its
typed fields, its conflict policy and schema version, and builds its table from the
fields, so a field is written down once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from .errors import UnknownEntityError, UpcastError
from .params import Param, ParamSet, Ref
from .tables import TABLE_ARGS, metadata

# An upcaster turns an event's state or params dict of schema version v into v + 1.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


# Columns every entity table has; a declared field may not reuse their names.
SYSTEM_FIELDS = ("id", "version", "vv", "hlc", "origin_node_id")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # entity, field and table names
# What a list can search (a LIKE on text) and filter by (a select of known values).
SEARCHABLE = frozenset({"text", "slug", "key", "email", "url"})
FILTERABLE = frozenset({"boolean", "choice", "ref"})


class DeclarationError(ValueError):
    """A declaration that cannot work; the message names the entity and the field."""

    def __init__(self, entity: object, message: str, field: str | None = None) -> None:
        where = f"entity {entity!r}" + (f", field {field!r}" if field is not None else "")
        super().__init__(f"{where}: {message}")


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
    # Web settings, kept with the declaration: the role that may create, edit and delete
    # (viewer, editor or admin), and the list page's columns in order (default: derived).
    edit_role: str = "editor"
    list_columns: tuple[str, ...] = ()
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
        self._check()
        self.label = self.label or self.name.replace("_", " ").capitalize()
        self.plural = self.plural or self.label + "s"
        self.table_name = self.table_name or self.name + "s"
        self.title_field = self.title_field or next(iter(self.fields))
        self._check_settings()
        self.params = ParamSet(self.fields)
        self.unique_fields = tuple(name for name, p in self.fields.items() if p.unique)
        self.refs = MappingProxyType(
            {name: p.entity for name, p in self.fields.items() if isinstance(p, Ref)})
        self.secret_fields = frozenset(name for name, p in self.fields.items() if p.secret)
        self.state_keys = frozenset({"id", *self.fields})
        self.table = self._build_table()

    def _check(self) -> None:
        """The declaration's own shape, before anything is derived from it."""
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise DeclarationError(self.name, "the name must be lowercase letters, digits and "
                                   "underscores, starting with a letter (at most 40)")
        if not isinstance(self.fields, Mapping) or not self.fields:
            raise DeclarationError(self.name, "an entity needs at least one field")
        for name, param in self.fields.items():
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise DeclarationError(self.name, "a field name must be lowercase letters, "
                                       "digits and underscores, starting with a letter", name)
            if name in SYSTEM_FIELDS:
                raise DeclarationError(self.name, "is a system column, not a field", name)
            if not isinstance(param, Param):
                raise DeclarationError(self.name, f"{type(param).__name__} is not a field "
                                       "type (Text, Date, Decimal, ...)", name)
            try:
                param.check()
            except ValueError as exc:
                raise DeclarationError(self.name, str(exc), name) from None
        try:
            self.policy = Policy(self.policy)
        except ValueError:
            raise DeclarationError(self.name, f"policy must be 'lww' or 'manual', not "
                                   f"{self.policy!r}") from None
        if type(self.schema_version) is not int or self.schema_version < 1:
            raise DeclarationError(self.name, "schema_version must be a whole number from 1")
        if missing := set(range(1, self.schema_version)) - set(self.upcasters):
            raise DeclarationError(self.name, f"no upcaster from schema version(s) "
                                   f"{sorted(missing)}")
        if self.table_name and not _NAME.fullmatch(self.table_name):
            raise DeclarationError(self.name, f"table_name {self.table_name!r} must be "
                                   "lowercase letters, digits and underscores")

    def _check_settings(self) -> None:
        """Settings that name fields must name declared ones of a kind that fits."""
        named = [("title_field", (self.title_field,), None),
                 ("search_fields", self.search_fields, SEARCHABLE),
                 ("filter_fields", self.filter_fields, FILTERABLE),
                 ("list_columns", self.list_columns, None)]
        for setting, names, kinds in named:
            if isinstance(names, str):
                raise DeclarationError(self.name, f"{setting} must be a tuple of field "
                                       f"names, not the text {names!r}")
            for name in names:
                param = self.fields.get(name)
                if param is None:
                    raise DeclarationError(self.name, f"{setting} names no declared field",
                                           str(name))
                if param.secret and setting != "search_fields":
                    raise DeclarationError(self.name, f"a secret field cannot be in {setting}",
                                           name)
                if kinds is not None and param.kind not in kinds:
                    raise DeclarationError(self.name, f"{setting} takes only fields of kind "
                                           f"{', '.join(sorted(kinds))}, not {param.kind}",
                                           name)

    def _build_table(self) -> sa.Table:
        if self.table_name in metadata.tables:
            raise DeclarationError(self.name, f"its table {self.table_name!r} is taken (by "
                                   "Hindsight or another entity): declare table_name=...")
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
            try:
                doc = self.upcasters[version](dict(doc))
            except Exception as exc:  # an upcaster is the declaring code's: any error
                raise UpcastError(self.name, version, exc) from exc
        return doc


class Registry:
    def __init__(self) -> None:
        self._entities: dict[str, Entity] = {}

    def register(self, entity: Entity) -> Entity:
        if not isinstance(entity, Entity):
            raise DeclarationError(getattr(entity, "name", entity),
                                   "only an Entity(...) can be registered")
        if entity.name in self._entities:
            raise DeclarationError(entity.name, "is registered twice")
        if clash := next((e for e in self if e.table_name == entity.table_name), None):
            raise DeclarationError(entity.name, f"its table {entity.table_name!r} is "
                                   f"entity {clash.name!r}'s already")
        self._entities[entity.name] = entity
        return entity

    def check(self) -> None:
        """Once all are registered: every reference names a registered entity."""
        for entity in self:
            for name, target in entity.refs.items():
                if target not in self._entities:
                    raise DeclarationError(entity.name, f"refers to entity {target!r}, which "
                                           f"is not declared (declared: "
                                           f"{', '.join(self._entities)})", name)

    def get(self, name: str) -> Entity:
        try:
            return self._entities[name]
        except (KeyError, TypeError):
            raise UnknownEntityError(f"unknown entity {str(name)[:40]!r}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entities

    def __iter__(self) -> Iterator[Entity]:
        return iter(self._entities.values())
