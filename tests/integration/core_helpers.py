"""Small readers shared by the audit-core integration tests (plain SQL, no core shortcuts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.audit import CreateRecord
from webapp.audit.events import ChangeEvent
from webapp.audit.service import Auditor
from webapp.audit.tables import change_events, node_state


def count(session: Session, table: sa.Table) -> int:
    session.rollback()  # a fresh snapshot: MariaDB's REPEATABLE READ would keep an old one
    return int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def node_row(session: Session) -> tuple[int, int, str]:
    session.rollback()
    row = session.execute(sa.select(node_state.c.last_seq, node_state.c.last_hlc,
                                    node_state.c.last_hash)).one()
    return int(row[0]), int(row[1]), str(row[2])


def all_events(session: Session) -> list[ChangeEvent]:
    session.rollback()
    rows = session.execute(sa.select(change_events).order_by(change_events.c.seq))
    return [ChangeEvent.from_row(r._mapping) for r in rows]


def row_of(session: Session, table: sa.Table, record_id: str) -> dict[str, Any] | None:
    session.rollback()
    row = session.execute(sa.select(table).where(table.c.id == record_id)).first()
    return dict(row._mapping) if row else None


def new_team(auditor: Auditor, session: Session, slug: str, **extra: Any) -> dict[str, Any]:
    result = auditor.execute(session, CreateRecord("team", {"slug": slug, "name": slug.title(),
                                                            **extra}))
    assert result.record is not None
    return result.record


@contextmanager
def injected(target: Any, name: str, listener: Callable[..., None]) -> Iterator[None]:
    """`listener` on SQLAlchemy event `name` of `target` for the block."""
    event.listen(target, name, listener)
    try:
        yield
    finally:
        event.remove(target, name, listener)
