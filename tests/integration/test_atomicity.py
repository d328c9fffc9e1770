"""A mutation and its change event commit together or not at all, on every database.

Failures are injected with real mechanisms (SQLAlchemy engine and session events that
raise at a chosen statement or at commit), never by mocking the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.core_helpers import all_events, count, injected, new_team, node_row
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import ParamsError
from webapp.audit.tables import tombstones
from webapp.domain import teams


class InjectedFailure(Exception):
    pass


def raise_on(prefix: str) -> Callable[..., None]:
    def listener(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if " ".join(statement.split()).upper().startswith(prefix):
            raise InjectedFailure(prefix)
    return listener


def always_raise(*_args: Any) -> None:
    raise InjectedFailure("commit")


# Where to fail: (event target, event name, listener). "after the mutation" raises once
# the entity row was written; "at the event insert" just before the event row goes in;
# "after the event insert" once it went in but before the node state moved; "at commit"
# in the session's before_commit hook and at the DBAPI commit itself.
POINTS: dict[str, Callable[[Any, Any, str], tuple[Any, str, Callable[..., None]]]] = {
    "after the mutation": lambda eng, s, stmt: (eng, "after_cursor_execute", raise_on(stmt)),
    "at the event insert": lambda eng, s, stmt: (
        eng, "before_cursor_execute", raise_on("INSERT INTO CHANGE_EVENTS")),
    "after the event insert": lambda eng, s, stmt: (
        eng, "after_cursor_execute", raise_on("INSERT INTO CHANGE_EVENTS")),
    "before commit": lambda eng, s, stmt: (s, "before_commit", always_raise),
    "at the database commit": lambda eng, s, stmt: (eng, "commit", always_raise),
}


def snapshot(session: Any) -> tuple[Any, ...]:
    session.rollback()
    rows = session.execute(sa.select(teams.table).order_by(teams.table.c.id)).all()
    return ([tuple(r) for r in rows], count(session, teams.table), len(all_events(session)),
            node_row(session), count(session, tombstones))


def commands_for(op: str, keep: dict[str, Any]) -> tuple[Any, str]:
    if op == "create":
        return CreateRecord("team", {"slug": "new", "name": "New"}), "INSERT INTO TEAMS"
    if op == "update":
        return UpdateRecord("team", keep["id"], keep["version"], {"name": "Renamed"}), \
            "UPDATE TEAMS"
    return DeleteRecord("team", keep["id"], keep["version"]), "DELETE FROM TEAMS"


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("op", ["create", "update", "delete"])
def test_a_failure_leaves_neither_mutation_nor_event_nor_moved_node_state(
        engine, session, auditor, op, point):
    keep = new_team(auditor, session, "keep")
    before = snapshot(session)
    command, statement = commands_for(op, keep)
    with injected(*POINTS[point](engine, session, statement)):
        with pytest.raises(InjectedFailure):
            auditor.execute(session, command)
    assert snapshot(session) == before
    # The node goes on from where it was: the next event takes the very next seq, and
    # the chain links to the last event that really committed.
    last_seq, _, last_hash = before[3]
    result = auditor.execute(session, command)
    assert result.event is not None and not result.replayed
    assert result.event.seq == last_seq + 1 and result.event.prev_hash == last_hash
    assert len(all_events(session)) == before[2] + 1


@pytest.mark.parametrize("point", ["at the event insert", "before commit"])
def test_a_failure_in_a_batch_writes_none_of_its_commands(engine, session, auditor, point):
    keep = new_team(auditor, session, "keep")
    before = snapshot(session)
    batch = [CreateRecord("team", {"slug": f"t{i}", "name": f"T{i}"}) for i in range(5)]
    batch.append(UpdateRecord("team", keep["id"], keep["version"], {"name": "Changed"}))
    with injected(*POINTS[point](engine, session, "")):
        with pytest.raises(InjectedFailure):
            auditor.execute_all(session, batch)
    assert snapshot(session) == before


def test_a_refused_command_in_a_batch_leaves_the_earlier_ones_unwritten(session, auditor):
    before = snapshot(session)
    batch = [CreateRecord("team", {"slug": "fine", "name": "Fine"}),
             CreateRecord("team", {"slug": "Not A Slug", "name": "Bad"})]
    with pytest.raises(ParamsError) as caught:
        auditor.execute_all(session, batch)
    assert set(caught.value.errors) == {"slug"}
    assert snapshot(session) == before
