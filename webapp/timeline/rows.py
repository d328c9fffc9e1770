"""What a timeline row shows besides the event: its entity, the record's title, the
diffs, and the names of its user, origin node and referenced records (looked up once
per page, never per row; the caller passes the node names it has already read)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from .. import diffs
from ..audit.entity import Entity
from ..audit.events import ChangeEvent
from ..audit.ids import is_ulid
from ..audit.records import titles
from ..domain import registry, users


@dataclass(frozen=True)
class EventRow:
    event: ChangeEvent
    entity: Entity | None  # None for an entity this build does not declare
    title: str
    state: diffs.StateDiff
    params: tuple[diffs.ParamDiff, ...]
    user: str  # username if known, else the stored user id
    node: str  # node name if known, else its id

    @property
    def entity_label(self) -> str:
        return self.entity.label if self.entity is not None else self.event.entity

    @property
    def conflict(self) -> bool:
        """Hook for replication: conflicting and conflict-resolving events get a badge."""
        return bool(self.event.meta.get("conflict") or self.event.meta.get("resolves"))


def page_size() -> int:
    return int(current_app.config.get("HINDSIGHT_TIMELINE_PAGE_SIZE", 50))


def entity_of(name: str) -> Entity | None:
    return registry.get(name) if name in registry else None


def title_of(entity: Entity | None, event: ChangeEvent) -> str:
    state = event.post_state or event.pre_state or {}
    value = state.get(entity.title_field) if entity is not None else None
    secret = entity is not None and entity.title_field in entity.secret_fields
    return str(value) if value not in (None, "") and not secret else event.record_id


def ref_titles(session: Session,
               docs: Iterable[tuple[Entity | None, Mapping[str, Any] | None]]) -> dict[str, str]:
    """Titles of the records that `docs` reference through Ref fields, one query per
    referenced entity. Deleted records are left out (shown by id)."""
    wanted: dict[str, set[str]] = {}
    for entity, doc in docs:
        if entity is None or not doc:
            continue
        for name, target in entity.refs.items():
            value = doc.get(name)
            if isinstance(value, str) and is_ulid(value):
                wanted.setdefault(target, set()).add(value)
    found: dict[str, str] = {}
    for target, ids in wanted.items():
        if target in registry:
            found.update(titles(session, registry.get(target), sorted(ids)))
    return found


def build(session: Session, events: Sequence[ChangeEvent],
          nodes: Mapping[str, str]) -> list[EventRow]:
    """`nodes`: {node id: name}, from audit.lookups.node_names."""
    user_ids = [e.user_id for e in events if e.user_id and is_ulid(e.user_id)]
    names = titles(session, users, user_ids)
    entities = {name: entity_of(name) for name in {e.entity for e in events}}
    refs = ref_titles(session, ((entities[e.entity], doc) for e in events
                                for doc in (e.pre_state, e.post_state, e.params)))
    fields = {name: diffs.Fields.of(entity, refs) for name, entity in entities.items()}
    rows = []
    for event in events:
        entity = entities[event.entity]
        state, params = diffs.for_event(fields[event.entity], event)
        user = names.get(event.user_id or "", event.user_id or "")
        rows.append(EventRow(event, entity, title_of(entity, event), state, params, user,
                             nodes.get(event.origin_node_id, event.origin_node_id)))
    return rows
