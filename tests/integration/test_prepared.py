"""Prepared statements (the core's hot path on the driver cursor) behave as SQLAlchemy's
own execute would, on every database: types, errors, listeners, pipelines, atomicity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.integration.core_helpers import (
    all_events,
    count,
    injected,
    new_team,
    node_row,
    row_of,
)
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import StaleVersionError
from webapp.audit.prepared import Pipeline, Prepared, insert_rows
from webapp.domain import teams, users

_BY_ID = Prepared(sa.select(users.table.c.active, users.table.c.username)
                  .where(users.table.c.id == sa.bindparam("b_id")))


def test_types_go_in_and_come_out_as_sqlalchemy_would(session, auditor):
    made = auditor.execute(session, CreateRecord("user", {
        "email": "ada@example.org", "username": "ada", "role": "viewer",
        "password": "correct horse battery", "active": False})).record
    assert made is not None
    rows = _BY_ID.rows(session, {"b_id": made["id"]})
    assert rows == [(False, "ada")]
    assert type(rows[0][0]) is bool  # SQLite and MariaDB store 0/1: the result type maps it
    assert _BY_ID.dicts(session, {"b_id": made["id"]}) == [{"active": False, "username": "ada"}]
    assert _BY_ID.rows(session, {"b_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}) == []


def _team_row(slug: str) -> dict[str, Any]:
    return {"id": f"01ARZ3NDEKTSV4RRFFQ69G5F{slug[:2].upper()}", "version": 1, "vv": "{}",
            "hlc": 1, "origin_node_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "slug": slug,
            "name": slug}


@pytest.mark.parametrize("rows", [1, 25], ids=["one row", "more than SMALL rows"])
def test_a_driver_error_is_raised_as_sqlalchemys_integrity_error(session, auditor, rows):
    new_team(auditor, session, "taken")
    batch = [_team_row(f"t{i:02d}") for i in range(rows - 1)] + [_team_row("taken")]
    batch[-1]["id"] = "01ARZ3NDEKTSV4RRFFQ69G5FZZ"
    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(session, teams.table, batch)
    session.rollback()
    assert count(session, teams.table) == 1


def test_cursor_listeners_see_prepared_statements(engine, session, auditor):
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        new_team(auditor, session, "heard")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert any(s.startswith("UPDATE NODE_STATE") for s in seen)
    assert any(s.startswith("INSERT INTO TEAMS") for s in seen)
    assert any(s.startswith("INSERT INTO CHANGE_EVENTS") for s in seen)


def test_rows_and_row_counts_are_there_through_a_pipeline(session, auditor):
    made = new_team(auditor, session, "piped")
    conn = session.connection()
    bump = Prepared(teams.table.update().where(teams.table.c.id == sa.bindparam("b_id"))
                    .values(name=sa.bindparam("b_name")))
    read = Prepared(sa.select(teams.table.c.name).where(teams.table.c.id == sa.bindparam("b_id")))
    with Pipeline(conn) as pipe:
        # psycopg pipelines; the other drivers run the same code statement by statement
        assert pipe.active == (conn.dialect.name == "postgresql")
        hit = bump.execute(conn, {"b_id": made["id"], "b_name": "Changed"})
        miss = bump.execute(conn, {"b_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "b_name": "x"})
        assert read.rows(conn, {"b_id": made["id"]}) == [("Changed",)]
        pipe.end()
        assert not pipe.active
    assert (hit.rowcount, miss.rowcount) == (1, 0)
    session.rollback()


def test_a_statement_that_cannot_be_prepared_is_refused_when_first_run(session):
    listed = Prepared(sa.select(teams.table.c.id).where(
        teams.table.c.id.in_(sa.bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding IN list"):
        listed.rows(session, {"ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]})
    session.rollback()


# A failure the database itself raises at the event insert, so the fast path (prepared
# statements, and psycopg's pipeline, where the error surfaces at the COMMIT's sync) is
# what runs: no listener is attached.
_TRIGGERS = {
    "sqlite": ["""CREATE TRIGGER refuse_events BEFORE INSERT ON change_events
                  BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"""],
    "postgresql": ["""CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS
                      $$ BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$""",
                   """CREATE TRIGGER refuse_events BEFORE INSERT ON change_events
                      FOR EACH ROW EXECUTE FUNCTION refuse_events()"""],
    "mysql": ["""CREATE TRIGGER refuse_events BEFORE INSERT ON change_events FOR EACH ROW
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by test trigger'"""],
}
_DROP = {"sqlite": ["DROP TRIGGER refuse_events"],
         "postgresql": ["DROP TRIGGER refuse_events ON change_events",
                        "DROP FUNCTION refuse_events()"],
         "mysql": ["DROP TRIGGER refuse_events"]}


@pytest.mark.parametrize("op", ["create", "update", "delete"])
def test_a_database_error_at_the_event_insert_leaves_nothing_written(engine, session, auditor,
                                                                     op):
    keep = new_team(auditor, session, "keep")
    command = {"create": CreateRecord("team", {"slug": "new", "name": "New"}),
               "update": UpdateRecord("team", keep["id"], keep["version"], {"name": "Renamed"}),
               "delete": DeleteRecord("team", keep["id"], keep["version"])}[op]
    before = (count(session, teams.table), len(all_events(session)), node_row(session))
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for statement in _TRIGGERS[dialect]:
            conn.exec_driver_sql(statement)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="refused by test trigger"):
            auditor.execute(session, command)
    finally:
        session.rollback()
        with engine.begin() as conn:
            for statement in _DROP[dialect]:
                conn.exec_driver_sql(statement)
    assert (count(session, teams.table), len(all_events(session)), node_row(session)) == before
    kept = row_of(session, teams.table, keep["id"])
    assert kept is not None and (kept["name"], kept["version"]) == (keep["name"], keep["version"])
    assert auditor.execute(session, command).event is not None  # and the node goes on


# A trigger that makes an UPDATE match no row, silently: what a write around the node
# lock would look like to the conditional write. (MariaDB's triggers cannot skip a row.)
_SKIP_UPDATES = {
    "sqlite": (["""CREATE TRIGGER skip_team_updates BEFORE UPDATE ON teams
                   BEGIN SELECT RAISE(IGNORE); END"""], ["DROP TRIGGER skip_team_updates"]),
    "postgresql": (["""CREATE FUNCTION skip_row() RETURNS trigger LANGUAGE plpgsql AS
                       $$ BEGIN RETURN NULL; END $$""",
                    """CREATE TRIGGER skip_team_updates BEFORE UPDATE ON teams
                       FOR EACH ROW EXECUTE FUNCTION skip_row()"""],
                   ["DROP TRIGGER skip_team_updates ON teams", "DROP FUNCTION skip_row()"]),
}


@pytest.mark.parametrize("backend", sorted(_SKIP_UPDATES), indirect=True)
@pytest.mark.parametrize("batch", [1, 3], ids=["one update", "three updates"])
def test_a_conditional_write_that_matches_no_row_commits_nothing(engine, session, auditor,
                                                                 batch):
    made = [new_team(auditor, session, f"cond-{i}") for i in range(batch)]
    before = (len(all_events(session)), node_row(session))
    create, drop = _SKIP_UPDATES[engine.dialect.name]
    with engine.begin() as conn:
        for statement in create:
            conn.exec_driver_sql(statement)
    try:
        with pytest.raises(StaleVersionError):
            auditor.execute_all(session, [UpdateRecord("team", t["id"], t["version"],
                                                       {"name": "Never"}) for t in made])
    finally:
        session.rollback()
        with engine.begin() as conn:
            for statement in drop:
                conn.exec_driver_sql(statement)
    assert (len(all_events(session)), node_row(session)) == before


# PostgreSQL only: a check that runs at COMMIT, so the failure comes from the COMMIT
# queued behind a small transaction's writes in the pipeline.
_AT_COMMIT = (["""CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS
                  $$ BEGIN RAISE EXCEPTION 'refused at commit by test trigger'; END $$""",
               """CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON change_events
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                  EXECUTE FUNCTION refuse_at_commit()"""],
              ["DROP TRIGGER refuse_at_commit ON change_events",
               "DROP FUNCTION refuse_at_commit()"])


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_commit_that_fails_in_the_pipeline_leaves_nothing_written(engine, session, auditor):
    new_team(auditor, session, "first")
    before = (count(session, teams.table), len(all_events(session)), node_row(session))
    create, drop = _AT_COMMIT
    with engine.begin() as conn:
        for statement in create:
            conn.exec_driver_sql(statement)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="refused at commit"):
            auditor.execute(session, CreateRecord("team", {"slug": "never", "name": "Never"}))
    finally:
        session.rollback()
        with engine.begin() as conn:
            for statement in drop:
                conn.exec_driver_sql(statement)
    assert (count(session, teams.table), len(all_events(session)), node_row(session)) == before
    assert new_team(auditor, session, "later")["slug"] == "later"  # the session goes on


def _round_trips(trace: str) -> int:
    """How often the client spoke after the server had answered (a libpq trace)."""
    trips, last = 0, "B\t"
    for line in trace.splitlines():
        side = line[:2]
        if side == "F\t" and last == "B\t":
            trips += 1
        if side in ("F\t", "B\t"):
            last = side
    return trips


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_lone_command_takes_the_round_trips_of_a_plain_write(engine, session, auditor,
                                                               tmp_path):
    """A create: as many round trips as a plain INSERT and its COMMIT (the pool's ping,
    BEGIN, the lock with the create's reads, the writes with the COMMIT). An update: one
    more, as its row count is checked before the COMMIT."""
    from psycopg import pq

    made = new_team(auditor, session, "trips")
    log = tmp_path / "trace.txt"

    def traced(work: Callable[[], Any]) -> int:
        with log.open("w") as out:
            def trace(dbapi_connection: Any, *_: Any) -> None:
                dbapi_connection.pgconn.trace(out.fileno())
                dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

            def untrace(dbapi_connection: Any, *_: Any) -> None:
                dbapi_connection.pgconn.untrace()
            # Pool events, not cursor events: those would turn the fast path off.
            with injected(engine, "checkout", trace), injected(engine, "checkin", untrace):
                work()
        return _round_trips(log.read_text())

    def plain_insert() -> None:
        row = _team_row("plain")
        session.execute(teams.table.insert().values(**row))
        session.commit()

    def plain_update() -> None:
        session.execute(teams.table.update().where(teams.table.c.id == made["id"])
                        .values(name="Plain"))
        session.commit()

    plain = traced(plain_insert)
    assert plain == 3  # BEGIN, INSERT, COMMIT (the ping comes before the checkout event)
    assert traced(lambda: auditor.execute(session, CreateRecord(
        "team", {"slug": "lone", "name": "Lone"}))) <= plain
    assert traced(plain_update) == plain
    current = row_of(session, teams.table, made["id"])
    session.rollback()
    assert current is not None
    assert traced(lambda: auditor.execute(session, UpdateRecord(
        "team", made["id"], current["version"], {"name": "Audited"}))) <= plain + 1
