"""A node's identity: a ULID made once per database and kept there."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.audit.hlc import HybridClock
from webapp.audit.ids import is_ulid
from webapp.audit.node import GENESIS_HASH, init_node, load_node
from webapp.audit.tables import node_state, nodes


def test_the_node_id_is_made_once_and_then_read_back(session):
    assert load_node(session) is None
    first = init_node(session, "alpha", HybridClock())
    assert is_ulid(first)
    assert init_node(session, "renamed", HybridClock()) == first
    assert load_node(session) == (first, 0)
    row = session.execute(sa.select(nodes)).one()._mapping
    assert (row["node_id"], row["name"], row["is_self"]) == (first, "alpha", True)
    state = session.execute(sa.select(node_state)).one()._mapping
    assert (state["last_seq"], state["last_hash"]) == (0, GENESIS_HASH)


def test_processes_starting_together_on_a_new_database_agree_on_one_id(engine):
    start = threading.Barrier(6)
    ids: list[str] = []

    def boot() -> None:
        with Session(engine) as mine:
            start.wait()
            ids.append(init_node(mine, "racer", HybridClock()))

    threads = [threading.Thread(target=boot) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6 and len(set(ids)) == 1
    with Session(engine) as check:
        assert check.execute(sa.select(sa.func.count()).select_from(nodes)).scalar() == 1


@pytest.mark.parametrize("name", ["", "   ", "n" * 101, None])
def test_a_node_name_must_be_short_text(session, name):
    with pytest.raises(ValueError, match="node name"):
        init_node(session, name, HybridClock())
    assert load_node(session) is None
