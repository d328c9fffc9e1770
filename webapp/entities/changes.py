"""What an edit asks for, and what changed under it.

An edit form was loaded at some version. The command's params are the fields the user
changed relative to that version (not every field of the form), so the timeline shows
what was asked for. A stale edit shows, field by field, what changed since."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..audit import params as p
from ..audit.entity import Entity
from ..audit.store import record_events
from ..audit.transaction import state_of
from ..audit.vv import version_of
from ..domain import registry


def state_at(session: Session, entity: Entity, record_id: str, version: int,
             current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record as it was at `version` (from its events), or None if unknown."""
    if current is not None and current["version"] == version:
        return state_of(entity, current)
    page = record_events(session, entity.name, record_id, registry=registry)
    for event in page.events:
        if event.post_state is not None and version_of(event.vv_after) == version:
            return event.post_state
    return None


def _cleaned(param: p.Param, value: Any) -> Any:
    if param.blank(value):
        return False if isinstance(param, p.Boolean) else None
    return param.clean(value)


def asked_changes(entity: Entity, submitted: dict[str, Any],
                  loaded: dict[str, Any] | None) -> dict[str, Any]:
    """The submitted fields whose value differs from the loaded state. Unknown loaded
    state (history truncated) or a value the core will refuse: send the field as is."""
    if loaded is None:
        return dict(submitted)
    asked = {}
    for name, value in submitted.items():
        param = entity.fields[name]
        if isinstance(param, p.Password):
            asked[name] = value  # only present when typed in
            continue
        try:
            if _cleaned(param, value) == loaded.get(name):
                continue
        except ValueError:
            pass
        asked[name] = value
    return asked


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    loaded: Any
    yours: Any
    current: Any
    changed_since: bool  # someone else changed it after the form was loaded
    secret: bool
    yours_changed: bool  # you asked to change it (else re-applying keeps the current value)


def changes_since(entity: Entity, loaded: dict[str, Any] | None, yours: dict[str, Any],
                  current: dict[str, Any]) -> list[FieldChange]:
    """Rows for the stale-edit page: every field that changed since, or that you set to
    something other than its current value."""
    rows = []
    for name, param in entity.fields.items():
        was = (loaded or {}).get(name)
        now = current.get(name)
        since = loaded is not None and was != now
        mine = yours.get(name, was)
        if isinstance(param, p.Password):
            differs = name in yours  # a password is only sent when typed in
        else:
            try:
                differs = name in yours and _cleaned(param, mine) != now
            except ValueError:
                differs = True
        if since or differs:
            rows.append(FieldChange(name, param.label or name, was, mine, now, since,
                                    param.secret, name in yours))
    return rows
