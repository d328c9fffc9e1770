"""Ending a read transaction (audit.db.end_reads, with watch_writes marking writers),
on every database: it commits only what read, and never keeps a write nobody
committed, whether it ran as a statement or waits unflushed in the session."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Session

from webapp.audit.db import WROTE, end_reads, watch_writes
from webapp.audit.tables import nodes

pytestmark = pytest.mark.backends
NODE = "01J00000000000000000000000"


def _insert(session: Session, node_id: str = NODE) -> None:
    session.execute(sa.insert(nodes).values(node_id=node_id, name="n", is_self=False,
                                            first_seen_hlc=1))


def _names(session: Session) -> list[str]:
    with Session(session.get_bind()) as other:
        return list(other.execute(sa.select(nodes.c.node_id).order_by(nodes.c.node_id))
                    .scalars())


def test_a_write_left_uncommitted_is_rolled_back_not_committed(session: Session) -> None:
    watch_writes(session)
    _insert(session)
    assert session.info.get(WROTE)
    end_reads(session)
    assert not session.in_transaction()
    assert _names(session) == []


def test_the_mark_ends_with_its_transaction(session: Session) -> None:
    watch_writes(session)
    _insert(session)
    session.commit()  # a writer that committed its own work
    assert WROTE not in session.info
    session.execute(sa.select(nodes.c.name)).all()
    end_reads(session)  # what follows only read: committed, nothing lost
    assert _names(session) == [NODE]


def test_a_text_statement_counts_as_a_write(session: Session) -> None:
    watch_writes(session)
    session.execute(sa.text("DELETE FROM nodes"))
    assert session.info.get(WROTE)
    session.rollback()


class _Node:  # a throwaway mapping of the nodes table, for an unflushed change
    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


orm.registry().map_imperatively(_Node, nodes)


def test_an_unflushed_change_is_rolled_back_not_committed(session: Session) -> None:
    watch_writes(session)
    session.execute(sa.select(nodes.c.name)).all()
    session.add(_Node(node_id=NODE, name="n", is_self=False, first_seen_hlc=1))
    end_reads(session)
    assert _names(session) == []
