"""audit.labels: the titles and conflict marks that lists of events print, read in one
statement, on every backend: the same as each read apart, whatever mix is asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.integration.replication_cluster import Node, cluster_fixtures, sync
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord, labels
from webapp.audit.lookups import deleted_titles
from webapp.audit.records import titles
from webapp.audit.replication.queries import conflict_marks
from webapp.domain import registry
from webapp.timeline.rows import Shown

cluster, nodes = cluster_fixtures(2, "lb")
teams, projects, users = (registry.get(n) for n in ("team", "project", "user"))


@pytest.fixture
def statements(nodes: list[Node]) -> Iterator[list[str]]:
    """The statements the first node runs, from now on."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))
    sa.event.listen(nodes[0].engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(nodes[0].engine, "before_cursor_execute", record)


def _world(a: Node, b: Node) -> dict[str, object]:
    """Two teams (one deleted), a project, a user, and a manual conflict on a team."""
    red = a.run(CreateRecord("team", {"slug": "red", "name": "Red <b>"})).record
    gone = a.run(CreateRecord("team", {"slug": "gone", "name": "Gone team"})).record
    user = a.run(CreateRecord("user", {"username": "ada", "email": "ada@example.com",
                                       "role": "viewer", "password": "correct horse 1"})).record
    assert red and gone and user
    project = a.run(CreateRecord("project", {"name": "P", "status": "active",
                                             "team_id": red["id"]})).record
    assert project
    a.run(DeleteRecord("team", gone["id"], 1))
    b.pull(a)
    ea = a.run(UpdateRecord("team", red["id"], 1, {"name": "From A"})).event
    eb = b.run(UpdateRecord("team", red["id"], 1, {"name": "From B"})).event
    assert ea and eb
    sync(a, b)
    return {"red": red["id"], "gone": gone["id"], "user": user["id"],
            "project": project["id"], "events": [ea.event_id, eb.event_id]}


def test_one_statement_reads_what_the_reads_apart_read(nodes: list[Node],
                                                      statements: list[str]) -> None:
    a, b = nodes
    w = _world(a, b)
    events = [e.event_id for e in a.log()]
    team_ids = [w["red"], w["gone"], "01NOSUCHRECORD0000000000AA", "not an id; --"]
    statements.clear()
    found = labels.read(a.session, [(users, [w["user"], ""]), (teams, team_ids)],
                        events, deleted={"team"})
    assert len(statements) == 1
    red = a.record("team", w["red"])  # type: ignore[arg-type]
    assert red is not None and red["name"] in ("From A", "From B")
    assert found.titles == {"team": {w["red"]: red["name"]}, "user": {w["user"]: "ada"}}
    assert found.gone == {"team": {w["gone"]: "Gone team"}, "user": {}}
    assert found.named("team") == {w["red"]: red["name"], w["gone"]: "Gone team"}
    apart = conflict_marks(a.session, events)
    assert found.marks == apart
    assert {m.status for m in found.marks.values()} == {"open"}
    assert set(found.marks) == set(w["events"])  # type: ignore[arg-type]
    live = titles(a.session, teams, [w["red"]])  # type: ignore[list-item]
    assert found.titles["team"][w["red"]] == live[w["red"]]  # type: ignore[index]
    assert deleted_titles(a.session, teams, [w["gone"]]) == {w["gone"]: "Gone team"}  # type: ignore[list-item]


def test_deleted_records_are_titled_only_where_asked(nodes: list[Node]) -> None:
    a, b = nodes
    w = _world(a, b)
    found = labels.read(a.session, [(teams, [w["red"], w["gone"]])], [])  # type: ignore[list-item]
    assert set(found.named("team")) == {w["red"]} and found.gone == {"team": {}}
    assert found.marks == {}


def test_nothing_asked_runs_no_statement(nodes: list[Node], statements: list[str]) -> None:
    a, _ = nodes
    found = labels.read(a.session, [(teams, []), (users, ["no id!"])], ["nor this"])
    assert found == labels.Labels({"team": {}, "user": {}}, {"team": {}, "user": {}}, {})
    assert statements == []


def test_long_lists_read_apart_the_same(nodes: list[Node], statements: list[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = nodes
    w = _world(a, b)
    events = [e.event_id for e in a.log()]
    asked = [(teams, [w["red"], w["gone"]]), (projects, [w["project"]]), (users, [w["user"]])]
    together = labels.read(a.session, asked, events, deleted={"team"})  # type: ignore[list-item]
    monkeypatch.setattr(labels, "MOST", 1)
    statements.clear()
    apart = labels.read(a.session, asked, events, deleted={"team"})  # type: ignore[list-item]
    assert apart == together
    assert len(statements) > 1
    assert together.titles["project"] == {w["project"]: "P"}


def test_an_author_is_named_only_while_their_account_lives(nodes: list[Node]) -> None:
    """Whatever else a page names: a user named by a Ref field too (by their last
    username once deleted) does not make a deleted author named by it."""
    a, _ = nodes
    made = [a.run(CreateRecord("user", {
        "username": name, "email": f"{name}@example.org", "role": "viewer",
        "password": "correct horse 1"})).record for name in ("gone", "other")]
    gone, other = made
    assert gone is not None and other is not None
    a.run(DeleteRecord("user", gone["id"], 1))
    alone = Shown.read(a.session, [gone["id"]], {}, [])
    with_ref = Shown.read(a.session, [gone["id"]], {"user": {other["id"], gone["id"]}}, [])
    assert alone.users == with_ref.users == {}
    assert with_ref.refs == {other["id"]: "other", gone["id"]: "gone"}
