"""Records whose history starts from a base event (compacted here, or received in a
snapshot): the base must be intact (its hash matches its content) and, when it carries
a signature, signed by its origin's pinned key. The record check then proves the record
from the base and the events after it, as for any other record: a bootstrapped record
is not exempt."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..compaction.tables import BASE_EVENT_COLUMNS, compacted_records
from ..entity import Entity
from ..events import ChangeEvent
from ..keys import public_keys, verify_signature
from .findings import Break, Kind

PAGE = 1000


def broken_bases(session: Session, entity: Entity) -> Iterator[Break]:
    keys = public_keys(session)
    cr = compacted_records.c
    after = ""
    while True:
        rows = session.execute(sa.select(*BASE_EVENT_COLUMNS).where(
            cr.entity == entity.name, cr.record_id > after).order_by(cr.record_id)
            .limit(PAGE)).all()
        for row in rows:
            found = _broken(ChangeEvent.from_row(row._mapping), keys)
            if found is not None:
                yield found
        if len(rows) < PAGE:
            return
        after = rows[-1].record_id


def _broken(base: ChangeEvent, keys: dict[str, str]) -> Break | None:
    where = f"{base.entity} {base.record_id}"
    if base.chained_hash(base.prev_hash) != base.hash:
        return Break(Kind.EDITED, base.origin_node_id, where, f"its base event {base.event_id} "
                     "(where its compacted history ends) does not match its hash", base.event_id)
    key = keys.get(base.origin_node_id)
    if base.signature is not None and (key is None or not verify_signature(
            key, base.origin_node_id, base.hash, base.signature)):
        return Break(Kind.SIGNATURE, base.origin_node_id, where, f"its base event "
                     f"{base.event_id} carries a signature its origin's pinned key does not "
                     "verify", base.event_id)
    return None
