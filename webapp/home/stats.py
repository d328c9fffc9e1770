"""Reads for the dashboard: record counts per entity (small tables) and the newest events
(one keyset page of the timeline, never a count of the log)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit.entity import Entity
from ..audit.events import ChangeEvent
from ..audit.records import count_records, titles
from ..audit.store import timeline
from ..domain import registry, users


def entity_counts(session: Session) -> list[tuple[Entity, int]]:
    return [(entity, count_records(session, entity)) for entity in registry if not entity.system]


def latest_events(session: Session, limit: int = 10) -> tuple[list[ChangeEvent], dict[str, str]]:
    """The newest events, and the usernames of the accounts that made them."""
    events = timeline(session, limit=limit, registry=registry).events
    ids = [e.user_id for e in events if e.user_id]
    return events, titles(session, users, ids)
