"""Rows and tombstones that no event explains: written behind the app's back (or left
by a removed event). One anti-join per table, on the events' record index."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..compaction.tables import compacted_records as compacted
from ..entity import Entity
from ..tables import change_events as ev
from ..tables import tombstones
from .findings import Break, Kind


def unexplained(session: Session, entity: Entity) -> Iterator[Break]:
    """Rows and tombstones of records that have no event at all (at most 1,000 each),
    except records whose history was compacted (their last removed event is noted)."""
    rows = sa.select(entity.table.c.id)
    tombs = sa.select(tombstones.c.record_id).where(tombstones.c.entity == entity.name)
    for query, what in ((rows, "a current record"), (tombs, "a tombstone")):
        column = query.selected_columns[0]
        orphans = query.where(~sa.exists().where(ev.c.entity == entity.name,
                                                 ev.c.record_id == column),
                              ~sa.exists().where(compacted.c.entity == entity.name,
                                                 compacted.c.record_id == column))
        for (record_id,) in session.execute(orphans.order_by(column).limit(1000)):
            yield Break(Kind.RECORD, "", f"{entity.name} {record_id}",
                        f"it is {what}, but no event made it: written behind the app's back")
