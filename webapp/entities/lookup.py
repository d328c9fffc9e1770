"""Resolve the URL's entity and record (404 on anything unknown or malformed), check
the entity's edit role (403), and name the records that still use one."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from ..audit.entity import Entity
from ..audit.ids import is_ulid
from ..audit.records import get_record, referrers, titles
from ..auth.roles import has_role
from ..domain import edit_role, registry
from ..extensions import db


def entity_or_404(name: str) -> Entity:
    if name not in registry:
        abort(404, f"There is no record type called {name[:40]!r}.")
    entity = registry.get(name)
    if entity.system:  # the access log: written by the app, read on the timeline
        abort(404, f"{entity.plural} are written by the app itself; see them on the timeline.")
    return entity


def editable_or_403(name: str) -> Entity:
    entity = entity_or_404(name)
    if not has_role(current_user, edit_role(entity.name)):
        abort(403, f"Changing {entity.plural.lower()} needs the {edit_role(entity.name)} role.")
    return entity


def find_record(entity: Entity, record_id: str) -> dict[str, Any] | None:
    """The record, or None if it does not exist (now); 404 for an id that is no ULID."""
    if not is_ulid(record_id):
        abort(404, f"No {entity.label.lower()} with id {record_id[:40]!r}.")
    return get_record(db.session(), entity, record_id)


def record_or_404(entity: Entity, record_id: str) -> dict[str, Any]:
    record = find_record(entity, record_id)
    if record is None:
        abort(404, f"No {entity.label.lower()} with id {record_id[:40]!r}.")
    return record


def used_by(ent: Entity, record_id: str) -> list[tuple[Entity, str, str]]:
    """The records that still refer to this one, with their titles: (entity, id, title)."""
    found = referrers(db.session(), registry, ent, record_id)
    named = {name: titles(db.session(), registry.get(name),
                          [rid for o, rid in found if o.name == name])
             for name in {o.name for o, _ in found}}
    return [(other, rid, named[other.name].get(rid, rid)) for other, rid in found]
