"""Reads of current records: one by id, and searchable, filterable keyset pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .entity import Entity, Registry
from .idlists import is_token, list_style, one_of
from .transaction import Record, record_from_mapping, record_from_row


def get_record(session: Session, entity: Entity, record_id: str) -> Record | None:
    row = session.execute(_by_id(entity.table), {"id": record_id}).first()
    return record_from_row(row) if row else None


@cache
def _by_id(table: sa.Table) -> sa.Select[Any]:
    """Built once per entity: record pages read a record on every view."""
    return sa.select(table).where(table.c.id == sa.bindparam("id"))


@dataclass(frozen=True)
class Joinable:
    """A record read as columns of another statement (the one each page runs anyway:
    its reader's, webapp/along.py): its table LEFT JOINed on its id, bound as `param`,
    each column labelled with `prefix`."""
    entity: Entity
    prefix: str
    param: str

    @cached_property
    def table(self) -> sa.FromClause:
        """The entity's table under a name of its own (a user's page joins `users` to
        the reader's statement, which reads `users` already)."""
        return self.entity.table.alias(self.prefix.rstrip("_"))

    @property
    def columns(self) -> tuple[sa.Label[Any], ...]:
        return tuple(c.label(self.prefix + c.name) for c in self.table.c)

    @property
    def join(self) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
        table = self.table
        return table, table.c.id == sa.bindparam(self.param, type_=sa.String)

    def among(self, row: Mapping[str, Any]) -> Record | None:
        """get_record, as a row holding `columns` has it (None: no such record)."""
        if row[self.prefix + "id"] is None:
            return None
        return record_from_mapping({c.name: row[self.prefix + c.name]
                                    for c in self.entity.table.c})


@dataclass(frozen=True)
class RecordPage:
    records: list[Record]
    next_after: str | None  # id to pass as `after` for the next page


def matching(entity: Entity, search: str = "",
             filters: Mapping[str, Any] | None = None) -> list[sa.ColumnElement[bool]]:
    """The conditions of a list: `search` matches any of the entity's search fields,
    case-insensitively; `filters` are equalities on its filter fields."""
    table = entity.table
    where: list[sa.ColumnElement[bool]] = []
    needle = search.strip().lower()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        fields = entity.search_fields or (entity.title_field,)
        where.append(sa.or_(*(sa.func.lower(table.c[f]).like(pattern, escape="\\")
                              for f in fields)))
    for name, value in (filters or {}).items():
        if name in entity.filter_fields and value not in (None, ""):
            where.append(table.c[name] == value)
    return where


def list_records(session: Session, entity: Entity, search: str = "",
                 filters: Mapping[str, Any] | None = None, after: str | None = None,
                 limit: int = 25, sort: str | None = None,
                 descending: bool = False) -> RecordPage:
    """Newest first (ids are ULIDs, so id order is creation order), or by the field
    `sort` (empty values last, then by id), keyset-paginated: `after` is the last id of
    the previous page."""
    table = entity.table
    query = sa.select(table).where(*matching(entity, search, filters))
    if sort is None:
        if after:
            query = query.where(table.c.id < after)
        query = query.order_by(table.c.id.desc())
    else:
        query = _sorted(session, entity, query, sort, descending, after)
    rows = session.execute(query.limit(limit + 1)).all()
    records = [record_from_row(r) for r in rows[:limit]]
    return RecordPage(records, records[-1]["id"] if len(rows) > limit else None)


def _sorted(session: Session, entity: Entity, query: sa.Select[Any], sort: str,
            descending: bool, after: str | None) -> sa.Select[Any]:
    table = entity.table
    column, ident = table.c[sort], table.c.id
    empty = sa.case((column.is_(None), 1), else_=0)  # empty values last on every database
    if after:
        anchor = session.execute(sa.select(column).where(ident == after)).first()
        if anchor is not None:
            value = anchor[0]
            beyond = (ident < after) if descending else (ident > after)
            if value is None:
                query = query.where(column.is_(None), beyond)
            else:
                past = (column < value) if descending else (column > value)
                query = query.where(sa.or_(column.is_(None), past,
                                           sa.and_(column == value, beyond)))
    order = (column.desc(), ident.desc()) if descending else (column.asc(), ident.asc())
    return query.order_by(empty, *order)


def count_matching(session: Session, entity: Entity, search: str = "",
                   filters: Mapping[str, Any] | None = None) -> int:
    """How many records a list holds (the demo's small tables: a plain count)."""
    query = sa.select(sa.func.count()).select_from(entity.table).where(
        *matching(entity, search, filters))
    return int(session.execute(query).scalar_one())


def titles(session: Session, entity: Entity, ids: list[str]) -> dict[str, str]:
    """Display titles for a set of ids (e.g. the team names shown on a project list)."""
    wanted = sorted({i for i in ids if is_token(i)})  # what is not an id names no record
    if not wanted:
        return {}
    query = _titles(entity.table, entity.title_field, list_style(session))
    return {row[0]: str(row[1]) for row in session.execute(query, {"ids": wanted})}


@cache
def _titles(table: sa.Table, title_field: str, style: str) -> sa.Select[Any]:
    """Built once per entity: pages read titles on every request (a page's 50 ids as one
    list parameter where the database takes one: expanding 50 costs more than the query)."""
    return sa.select(table.c.id, table.c[title_field]).where(one_of(table.c.id, "ids", style))


def count_records(session: Session, entity: Entity) -> int:
    """How many live records an entity has (the dashboard's small per-entity tables)."""
    return int(session.execute(_count(entity.table)).scalar_one())


@cache
def _count(table: sa.Table) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(table)  # built once: the dashboard's


def referrers(session: Session, registry: Registry, entity: Entity, record_id: str,
              limit: int = 5) -> list[tuple[Entity, str]]:
    """Live records that refer to this one (which a delete of it would leave dangling):
    (their entity, their id), at most `limit`."""
    found: list[tuple[Entity, str]] = []
    for other in registry:
        for name, target in other.refs.items():
            if target != entity.name or len(found) >= limit:
                continue
            table = other.table
            ids = session.execute(sa.select(table.c.id).where(table.c[name] == record_id)
                                  .order_by(table.c.id).limit(limit - len(found))).scalars()
            found += [(other, str(i)) for i in ids]
    return found
