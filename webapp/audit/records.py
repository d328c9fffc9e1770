"""Reads of current records: one by id, and searchable, filterable keyset pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .entity import Entity, Registry
from .transaction import Record, record_from_row


def get_record(session: Session, entity: Entity, record_id: str) -> Record | None:
    row = session.execute(sa.select(entity.table).where(entity.table.c.id == record_id)).first()
    return record_from_row(row) if row else None


@dataclass(frozen=True)
class RecordPage:
    records: list[Record]
    next_after: str | None  # id to pass as `after` for the next page


def list_records(session: Session, entity: Entity, search: str = "",
                 filters: Mapping[str, Any] | None = None, after: str | None = None,
                 limit: int = 25) -> RecordPage:
    """Newest first (ids are ULIDs, so id order is creation order), keyset-paginated.
    `search` matches any of the entity's search fields, case-insensitively."""
    table = entity.table
    query = sa.select(table)
    needle = search.strip().lower()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        fields = entity.search_fields or (entity.title_field,)
        query = query.where(sa.or_(*(sa.func.lower(table.c[f]).like(pattern, escape="\\")
                                     for f in fields)))
    for name, value in (filters or {}).items():
        if name in entity.filter_fields and value not in (None, ""):
            query = query.where(table.c[name] == value)
    if after:
        query = query.where(table.c.id < after)
    rows = session.execute(query.order_by(table.c.id.desc()).limit(limit + 1)).all()
    records = [record_from_row(r) for r in rows[:limit]]
    return RecordPage(records, records[-1]["id"] if len(rows) > limit else None)


def titles(session: Session, entity: Entity, ids: list[str]) -> dict[str, str]:
    """Display titles for a set of ids (e.g. the team names shown on a project list)."""
    if not ids:
        return {}
    table = entity.table
    query = sa.select(table.c.id, table.c[entity.title_field]).where(table.c.id.in_(set(ids)))
    return {row[0]: str(row[1]) for row in session.execute(query)}


def count_records(session: Session, entity: Entity) -> int:
    """How many live records an entity has (the dashboard's small per-entity tables)."""
    return int(session.execute(sa.select(sa.func.count()).select_from(entity.table)).scalar_one())


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
