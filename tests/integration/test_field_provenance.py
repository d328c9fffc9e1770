"""A record page's "Set by" column (replication.field_sources) names the same event for
every field whether the page's process remembered an earlier answer or reads the
record's whole history afresh: after local edits, and after concurrent edits on three
nodes that sync and merge field by field, on every backend."""

from __future__ import annotations

import random

import sqlalchemy as sa

from tests.integration.replication_cluster import Node, cluster_fixtures, sync
from webapp.audit import store
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.replication.provenance import Remembered, field_sources
from webapp.audit.tables import change_events

cluster, nodes = cluster_fixtures(3, "fp")

FIELDS = ("slug", "name", "description")


def sources(node: Node, record_id: str, memo: Remembered) -> dict[str, str]:
    row = node.record("team", record_id)
    assert row is not None
    found = field_sources(node.session, node.registry, "team", record_id, row["vv"], FIELDS,
                          memo)
    node.session.rollback()
    return {name: event.event_id for name, event in found.items()}


def test_remembered_sources_match_a_fresh_reading_across_edits_and_merges(
        nodes: list[Node]) -> None:
    rng = random.Random(12)
    a = nodes[0]
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    for node in nodes[1:]:
        node.pull(a)
    kept = {node.name: Remembered() for node in nodes}  # each node's page process
    for round_ in range(6):
        for node in nodes:  # concurrent edits, each on what that node has
            if rng.random() < 0.7:
                row = node.record("team", team["id"])
                assert row is not None
                field = rng.choice(("name", "description"))
                node.run(UpdateRecord("team", team["id"], row["version"],
                                      {field: f"{node.name} {round_}"}))
        first, second = rng.sample(nodes, 2)
        sync(first, second)
        for node in nodes:
            assert sources(node, team["id"], kept[node.name]) == \
                sources(node, team["id"], Remembered())
    for node in nodes[1:]:
        sync(a, node)
    sync(a, nodes[1])
    settled = [sources(node, team["id"], kept[node.name]) for node in nodes]
    assert settled[0] == settled[1] == settled[2]  # the same events, the same answer
    assert settled[0]["slug"] == team_event(a, team["id"])


def team_event(node: Node, record_id: str) -> str:
    """The id of the event that created the record (the only one that set its slug)."""
    created = [e for e in node.log() if e.record_id == record_id and e.op == "created"]
    return created[0].event_id


def test_a_record_viewed_again_after_an_edit_names_the_edit(nodes: list[Node]) -> None:
    a = nodes[0]
    team = a.run(CreateRecord("team", {"slug": "blue", "name": "Blue"})).record
    assert team is not None
    memo = Remembered()
    before = sources(a, team["id"], memo)
    edit = a.run(UpdateRecord("team", team["id"], team["version"], {"name": "Navy"}))
    after = sources(a, team["id"], memo)
    assert edit.event is not None and after["name"] == edit.event.event_id
    assert after["slug"] == before["slug"] == before["name"]
    assert after == sources(a, team["id"], Remembered())


def test_sources_among_the_rows_a_page_holds_are_not_read_again(nodes: list[Node]) -> None:
    a = nodes[0]
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    for version, name in enumerate(("Crimson", "Scarlet"), start=1):
        a.run(UpdateRecord("team", team["id"], version, {"name": name}))
    row = a.record("team", team["id"])
    assert row is not None
    page, _ = store.timeline_rows(a.session, store.TimelineFilter(
        entity="team", record_id=team["id"]), None, 50)  # the record page's rows (it reads
    # its authors and sides beside them, which field_sources does not look at)
    held = {r.event_id: r._mapping for r in page}
    memo = Remembered()
    fresh = field_sources(a.session, a.registry, "team", team["id"], row["vv"], FIELDS, memo)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)
    sa.event.listen(a.engine, "before_cursor_execute", seen)
    try:
        again = field_sources(a.session, a.registry, "team", team["id"], row["vv"], FIELDS,
                              memo, held=held)
    finally:
        sa.event.remove(a.engine, "before_cursor_execute", seen)
    a.session.rollback()
    assert statements == []  # the answer remembered, its events on the page
    scarlet = [e for e in a.log() if e.post_state and e.post_state.get("name") == "Scarlet"]
    assert again == fresh and again["name"].event_id == scarlet[0].event_id
    assert again["slug"].event_id == team_event(a, team["id"])


def test_stamps_remembered_under_a_compaction_generation_are_read_again_under_another(
        nodes: list[Node]) -> None:
    """The stamps an answer keeps are shown from memory while no compaction ran since
    (the same generation): a source event removed since is then left out, as a reading
    afresh leaves it out."""
    a = nodes[0]
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Crimson"}))
    row = a.record("team", team["id"])
    assert row is not None
    memo = Remembered()

    def read(generation: int) -> tuple[dict[str, str], list[str]]:
        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
            statements.append(statement)
        sa.event.listen(a.engine, "before_cursor_execute", seen)
        try:
            found = field_sources(a.session, a.registry, "team", team["id"], row["vv"],
                                  FIELDS, memo, generation=generation)
        finally:
            sa.event.remove(a.engine, "before_cursor_execute", seen)
        a.session.rollback()
        return {name: stamp.event_id for name, stamp in found.items()}, statements

    first, _ = read(7)
    created = team_event(a, team["id"])
    assert first["slug"] == created and first["name"] != created
    again, statements = read(7)
    assert again == first and statements == []  # nothing read
    # As a compaction would: the creation is no longer held here.
    a.session.execute(sa.delete(change_events).where(change_events.c.event_id == created))
    a.session.commit()
    assert read(7)[0] == first  # the same generation: as remembered
    after, statements = read(8)
    assert statements and after == {"name": first["name"]}  # the slug's source left out
    assert after == sources(a, team["id"], Remembered())
