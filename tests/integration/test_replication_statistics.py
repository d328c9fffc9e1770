"""A catch-up keeps PostgreSQL's planner statistics fresh (replication/statistics.py):
without them a merging batch's id-list reads scan a whole entity's events."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.integration.replication_cluster import Node
from tests.support.databases import fresh_engine
from webapp.audit.commands import CreateRecord
from webapp.audit.replication.statistics import Statistics


def _analyzed(node: Node) -> dict[str, float]:
    query = sa.text("SELECT relname, reltuples FROM pg_class WHERE relname IN "
                    "('change_events', 'conflicts', 'replication_heads')")
    return {r.relname: r.reltuples for r in node.session.execute(query)}


def test_a_catch_up_has_the_tables_analyzed_once_it_wrote_enough(tmp_path: Path) -> None:
    a, b = (Node(name, fresh_engine("postgresql", f"stats{name}", tmp_path))
            for name in ("a", "b"))
    for node in (a, b):
        node.start()
    try:
        b.replicator.statistics = Statistics(first=30)
        a.auditor.execute_all(a.session, [
            CreateRecord("team", {"slug": f"t{i}", "name": f"Team {i}"}) for i in range(40)])
        b.session.commit()
        # -1: never analyzed (a fresh table), as a new node's are when it catches up
        assert set(_analyzed(b).values()) == {-1}
        b.pull(a, limit=20)
        assert set(_analyzed(b).values()) == {-1}, "analyzed before it was due"
        b.pull(a, after=20)
        found = _analyzed(b)
        assert found["change_events"] == 40
        assert found["conflicts"] == found["replication_heads"] == 0
    finally:
        for node in (a, b):
            node.session.close()
            node.engine.dispose()
