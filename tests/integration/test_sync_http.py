"""Two real app instances, each on its own database, replicating over real HTTP (a
werkzeug server per node on a local port): records converge, a manual-policy collision
becomes the same open conflict on both, and one resolution closes it on both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.sync_nodes import Node, collide_team, dispose, link, make_node, serving
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.records import get_record
from webapp.audit.replication import list_conflicts, resolve_conflict
from webapp.domain import registry, teams
from webapp.extensions import db
from webapp.runtime import auditor

PAIRS = [("sqlite", "postgresql"), ("postgresql", "sqlite"), ("mariadb", "postgresql")]


@pytest.fixture(params=PAIRS, ids=["-".join(p) for p in PAIRS])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    left, right = request.param
    a, b = make_node(left, "alpha", tmp_path), make_node(right, "beta", tmp_path)
    with ExitStack() as stack:
        a.url = stack.enter_context(serving(a.app))
        b.url = stack.enter_context(serving(b.app))
        link(a, b)
        yield a, b
    dispose(a)
    dispose(b)


def snapshot(node: Node) -> dict[str, list[tuple[object, ...]]]:
    """Every entity's rows (id, version, vv and fields), in id order."""
    out = {}
    for entity in registry:
        rows = node.query(sa.select(entity.table).order_by(entity.table.c.id))
        out[entity.name] = [tuple(r) for r in rows]
    return out


def open_ids(node: Node) -> list[str]:
    with node.app.app_context():
        return sorted(c.conflict_id for c in list_conflicts(db.session, "open"))


def test_two_nodes_over_http_converge_and_share_one_resolution(served: tuple[Node, Node]) -> None:
    a, b = served
    red = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    blue = b.run(CreateRecord("team", {"slug": "blue", "name": "Blue"})).record
    a.run(CreateRecord("project", {"name": "Apollo", "team_id": red["id"], "status": "active"}))
    b.run(UpdateRecord("team", blue["id"], 1, {"description": "the blue one"}))
    doomed = b.run(CreateRecord("setting", {"key": "tmp.flag", "value": "1"})).record
    b.run(DeleteRecord("setting", doomed["id"], 1))
    for _ in range(2):
        assert a.sync("beta").ok and b.sync("alpha").ok
    assert snapshot(a) == snapshot(b)
    assert a.event_count() == b.event_count() == 6
    assert a.peer("beta").last_error is None and a.peer("beta").head_seq is not None

    team_id = collide_team(a, b, slug="ops")
    assert open_ids(a) == open_ids(b) and len(open_ids(a)) == 1
    assert snapshot(a) == snapshot(b)  # the same provisional winner on both

    with a.app.app_context():
        record = get_record(db.session, teams, team_id)
        assert record is not None
        resolve_conflict(auditor(), db.session(), open_ids(a)[0],
                         {"slug": "ops", "name": "Ops", "description": "merged"},
                         record["version"])
    assert open_ids(a) == []
    assert b.sync("alpha").ok and a.sync("beta").ok
    assert open_ids(b) == []
    assert snapshot(a) == snapshot(b)
    with b.app.app_context():
        merged = get_record(db.session, teams, team_id)
    assert merged is not None and merged["name"] == "Ops"


def test_a_long_backlog_arrives_in_batches(served: tuple[Node, Node]) -> None:
    a, b = served
    b.app.config["HINDSIGHT_SYNC_BATCH"] = 7
    for i in range(30):
        a.run(CreateRecord("setting", {"key": f"bulk.k{i}", "value": str(i)}))
    bounded = b.sync("alpha", max_batches=2)  # what "sync now" on the nodes page does
    assert bounded.ok and not bounded.caught_up and "more to pull" in bounded.summary()
    assert b.cursor("alpha") == 14 and bounded.applied == 14
    result = b.sync("alpha")
    assert result.ok and result.caught_up and result.batches == 3
    assert result.applied == 16 and b.cursor("alpha") == 30
    assert snapshot(a) == snapshot(b)
