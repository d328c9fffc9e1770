"""Tracking records: how far this node has applied each peer's log. Written in the same
transaction as the changes it covers (eventsourcing's tracking record), so a crash
between the two can neither skip nor double-apply a batch."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..idlists import list_style, one_of
from ..tables import change_events
from ..transaction import chunks
from .parking import parked_ids
from .tables import replication_cursors as cursors


def read_cursor(session: Session, source: str) -> int:
    """The last seq of source's log applied here (0 before any)."""
    query = sa.select(cursors.c.last_seq).where(cursors.c.source_node_id == source)
    return int(session.execute(query).scalar() or 0)


def move_cursor(session: Session, source: str, seq: int, hlc: int) -> None:
    """Move the cursor to seq, never back: an old batch delivered again is harmless."""
    row = session.execute(sa.select(cursors.c.last_seq)
                          .where(cursors.c.source_node_id == source)).first()
    if row is None:
        session.execute(cursors.insert().values(source_node_id=source, last_seq=seq,
                                                updated_hlc=hlc))
    elif seq > row.last_seq:
        session.execute(cursors.update().where(cursors.c.source_node_id == source)
                        .values(last_seq=seq, updated_hlc=hlc))


def known_ids(session: Session, ids: list[str]) -> set[str]:
    """The ids among `ids` of events this node already has, stored or parked."""
    return _stored_ids(session, ids) | parked_ids(session, ids)


def _stored_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    query = _stored(list_style(session))
    for chunk in chunks(ids):
        found.update(session.execute(query, {"ids": chunk}).scalars())
    return found


@cache
def _stored(style: str) -> sa.Select[Any]:
    return sa.select(change_events.c.event_id).where(one_of(change_events.c.event_id, "ids", style))
