"""Reads for the dashboard: record counts per entity (small tables), the newest events
(one keyset page of the timeline, never a count of the log) and the open conflicts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit.entity import Entity
from ..audit.events import ChangeEvent
from ..audit.records import count_records, titles
from ..audit.replication.models import OPEN
from ..audit.replication.tables import conflicts
from ..audit.store import timeline
from ..domain import registry, users


def entity_counts(session: Session) -> list[tuple[Entity, int]]:
    return [(entity, count_records(session, entity)) for entity in registry if not entity.system]


def latest_events(session: Session, limit: int = 10) -> tuple[list[ChangeEvent], dict[str, str]]:
    """The newest events, and the usernames of the accounts that made them."""
    events = timeline(session, limit=limit, registry=registry).events
    ids = [e.user_id for e in events if e.user_id]
    return events, titles(session, users, ids)


COUNT_CAP = 1000  # beyond this the nav says "1000+": counting further reads more of the index


# Built once: building this statement cost more CPU than running it, on every page.
_WAITING = sa.select(sa.func.count()).select_from(
    sa.select(conflicts.c.conflict_id).where(conflicts.c.status == OPEN)
    .limit(sa.bindparam("cap")).subquery())


def open_conflicts(session: Session) -> int:
    """How many conflicts wait for an admin, up to COUNT_CAP (ix_conflicts_status: a
    bounded index range, on every page)."""
    return int(session.execute(_WAITING, {"cap": COUNT_CAP}).scalar_one())
