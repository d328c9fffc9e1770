"""Small reads that timelines and record pages need for display and filtering: node
names, a user id by username, which entity a record id belongs to, a record's tombstone.
Each is one indexed probe (or a read of the small nodes table)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import canonical, joined
from .entity import Entity, Registry
from .ids import is_ulid
from .tables import change_events as ev
from .tables import nodes, tombstones

# Statements that every page runs are built once: building one costs more CPU than
# running it (SQLAlchemy's construction and cache key), per query, per request.
_NODE_NAMES = sa.select(nodes.c.node_id, nodes.c.name)

# The names as columns of another statement (the one each page runs anyway: its
# reader's, webapp/auth/reader.py, for webapp/chrome.py): every node as its id and its
# name, joined.
NODE_NAMES_COLUMNS = joined.columns("node_names", sa.select(nodes.c.node_id + nodes.c.name))


def node_names(session: Session) -> dict[str, str]:
    """{node_id: name} of every node this database knows (itself and its peers)."""
    return _by_name((str(r.node_id), str(r.name)) for r in session.execute(_NODE_NAMES))


def node_names_among(row: Mapping[str, Any]) -> dict[str, str] | None:
    """node_names as a row holding NODE_NAMES_COLUMNS has them; None when the text does
    not read back for sure (a peer's name holding the separators, say, or a database
    that cut the text short), for the caller to ask node_names."""
    parts = joined.split(row, "node_names")
    if parts is None or not all(is_ulid(p[:26]) for p in parts):
        return None
    return _by_name((p[:26], p[26:]) for p in parts)


def _by_name(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """In the names' order (lists of nodes show them so), the same whichever read."""
    return dict(sorted(pairs, key=lambda pair: (pair[1].casefold(), pair[1], pair[0])))


def id_by_field(session: Session, entity: Entity, field: str, value: Any) -> str | None:
    """The id of the record whose unique `field` holds `value` (e.g. a username)."""
    column = entity.table.c[field]
    row = session.execute(sa.select(entity.table.c.id).where(column == value).limit(1)).first()
    return str(row.id) if row else None


def entity_of_record(session: Session, entity_names: Iterable[str], record_id: str) -> str | None:
    """Which entity has events for `record_id`. One probe of ix_events_record per entity,
    because record_id alone has no index of its own."""
    for name in entity_names:
        query = sa.select(ev.c.entity).where(ev.c.entity == name, ev.c.record_id == record_id)
        if session.execute(query.limit(1)).first() is not None:
            return name
    return None


@dataclass(frozen=True)
class Tombstone:
    entity: str
    record_id: str
    vv: dict[str, int]
    hlc: int
    origin_node_id: str
    event_id: str
    last_state: dict[str, Any] | None  # at its entity's current schema (upcast)
    schema_version: int  # the current one, once read


def get_tombstone(session: Session, entity: str, record_id: str,
                  registry: Registry) -> Tombstone | None:
    query = sa.select(tombstones).where(tombstones.c.entity == entity,
                                        tombstones.c.record_id == record_id)
    row = session.execute(query).first()
    if row is None:
        return None
    doc = dict(row._mapping)
    doc["vv"] = canonical.loads(doc["vv"])
    doc["last_state"] = last_state(registry.get(entity), doc["last_state"],
                                   doc["schema_version"])
    doc["schema_version"] = registry.get(entity).schema_version
    return Tombstone(**doc)


def last_state(entity: Entity, text: str | None, version: int) -> dict[str, Any] | None:
    """A tombstone's stored last state, upcast from the schema version it was written at."""
    return entity.upcast(canonical.loads(text), version) if text else None


def deleted_titles(session: Session, entity: Entity, ids: list[str]) -> dict[str, str]:
    """The last titles of deleted records (from their tombstones), for links to them."""
    if not ids:
        return {}
    query = sa.select(tombstones.c.record_id, tombstones.c.last_state,
                      tombstones.c.schema_version).where(
        tombstones.c.entity == entity.name, tombstones.c.record_id.in_(set(ids)))
    return {str(record_id): deleted_title(entity, str(record_id), state, version)
            for record_id, state, version in session.execute(query)}


def deleted_title(entity: Entity, record_id: str, state: str | None, version: int) -> str:
    """A deleted record's title, from its tombstone's last state; else its id."""
    doc = last_state(entity, state, version) or {}  # the title field may be renamed
    title = doc.get(entity.title_field) if entity.title_field not in entity.secret_fields \
        else None
    return str(title) if title not in (None, "") else record_id
