"""The reads that pages make along with their reader's statement (webapp/along.py) read
back as the same reads made apart, on every database: the timeline's known users and
compacted origins, the home page's roll-up state, the record page's compaction
generation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.activity import rollup
from webapp.along import Along
from webapp.audit import CreateRecord
from webapp.audit.compaction.tables import compaction_origins, compaction_runs
from webapp.audit.records import get_record
from webapp.audit.service import Auditor
from webapp.auth import reader
from webapp.domain import registry
from webapp.home.routes import ROLLUP_STATE
from webapp.records.routes import GENERATION, _record_along
from webapp.timeline.form import USERNAMES
from webapp.timeline.routes import COMPACTED

pytestmark = pytest.mark.backends


def _along(session: Session, read: Along[object]) -> object:
    session.rollback()  # a fresh snapshot (MariaDB's REPEATABLE READ)
    return read.among(session.execute(sa.select(*read.columns)).one()._mapping)


def _apart(session: Session, read: Along[object]) -> object:
    session.rollback()
    return read.apart(session)


def test_known_users_read_along_are_those_read_apart(session: Session,
                                                     auditor: Auditor) -> None:
    assert _along(session, USERNAMES) == _apart(session, USERNAMES) == []
    for name in ("zed", "ann", "bob-2", "bob"):
        auditor.execute(session, CreateRecord("user", {
            "username": name, "email": f"{name}@example.org", "role": "viewer",
            "password": "a long enough password"}))
    assert _along(session, USERNAMES) == _apart(session, USERNAMES) == \
        ["ann", "bob", "bob-2", "zed"]


def test_compacted_origins_read_along_are_those_read_apart(session: Session) -> None:
    assert _along(session, COMPACTED) == _apart(session, COMPACTED) == []
    for origin, hlc in (("01J00000000000000000000002", 7), ("01J00000000000000000000001",
                                                            2 ** 62 + 5)):
        session.execute(sa.insert(compaction_origins).values(
            origin_node_id=origin, start_hash="0" * 64, start_hlc=hlc,
            start_event_id="01J00000000000000000000009", removed=1))
    session.commit()
    assert _along(session, COMPACTED) == _apart(session, COMPACTED) == [
        ("01J00000000000000000000001", 2 ** 62 + 5), ("01J00000000000000000000002", 7)]


def test_the_roll_up_state_read_along_is_that_read_apart(session: Session,
                                                          auditor: Auditor) -> None:
    assert _along(session, ROLLUP_STATE) == _apart(session, ROLLUP_STATE) == (0, 0)
    auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"}))
    rollup.refresh(session)
    head = _apart(session, ROLLUP_STATE)
    assert head[0] == head[1] > 0  # type: ignore[index]
    assert _along(session, ROLLUP_STATE) == head


def test_the_compaction_generation_read_along_is_that_read_apart(session: Session) -> None:
    assert _along(session, GENERATION) == _apart(session, GENERATION) == 0
    for run_id, through in (("01J00000000000000000000001", 40), ("01J00000000000000000000002",
                                                                  2 ** 40)):
        session.execute(sa.insert(compaction_runs).values(
            run_id=run_id, snapshot_id=run_id, snapshot_seq=through, through_seq=through,
            events_removed=1, done_ms=1))
    session.commit()
    assert _along(session, GENERATION) == _apart(session, GENERATION) == 2 ** 40


@pytest.mark.parametrize("entity", ["team", "user"])
def test_the_record_a_page_shows_rides_on_the_readers_own_statement(
        session: Session, auditor: Auditor, entity: str) -> None:
    """The reader's statement itself, with every read of the timeline, the home page
    and a record page joined in (a user's page joins `users` a second time)."""
    ann = auditor.execute(session, CreateRecord("user", {
        "username": "ann", "email": "ann@example.org", "role": "viewer",
        "password": "a long enough password"})).record
    red = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert ann is not None and red is not None
    shown = {"team": red, "user": ann}[entity]
    record = _record_along(entity)
    reads = (USERNAMES, COMPACTED, ROLLUP_STATE, GENERATION, record)
    for record_id, expected in ((shown["id"], get_record(session, registry.get(entity),
                                                        shown["id"])),
                                ("01J00000000000000000000009", None)):
        session.rollback()
        found = reader.read(session, ann["id"], None, reads, {"along_record_id": record_id})
        assert found is not None and found.account["username"] == "ann"
        assert record.among(found.row) == (expected,)
        assert USERNAMES.among(found.row) == ["ann"] and COMPACTED.among(found.row) == []
        assert ROLLUP_STATE.among(found.row) == _apart(session, ROLLUP_STATE)
