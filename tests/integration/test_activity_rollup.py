"""The activity roll-up on every backend: each event counted exactly once, by hour and
by entity, user and node, whatever path wrote it and however often it is refreshed,
including by two refreshes racing each other."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.integration.core_helpers import new_team
from webapp.activity import reads, rollup
from webapp.audit import CreateRecord
from webapp.audit.context import AuditContext, audit_context
from webapp.audit.hlc import unpack
from webapp.audit.tables import change_events


def _truth(session: Session) -> tuple[Counter[int], Counter[str], Counter[str]]:
    hours: Counter[int] = Counter()
    entities: Counter[str] = Counter()
    users: Counter[str] = Counter()
    for hlc, entity, user in session.execute(sa.select(
            change_events.c.hlc, change_events.c.entity, change_events.c.user_id)):
        hours[unpack(hlc)[0] // rollup.HOUR_MS] += 1
        entities[entity] += 1
        users[user or ""] += 1
    session.rollback()
    return hours, entities, users


def _all_hours(hours: Counter[int]) -> tuple[int, int]:
    return min(hours), max(hours)


def test_every_event_is_counted_once_by_hour_entity_and_user(session, auditor):
    with audit_context(AuditContext(user_id="ann")):
        for n in range(3):
            new_team(auditor, session, f"t{n}")
    with audit_context(AuditContext(user_id="bob")):
        auditor.execute(session, CreateRecord("setting", {"key": "a.b", "value": "1"}))
    assert rollup.refresh(session) == 4
    assert rollup.refresh(session) == 0  # nothing new: nothing counted twice
    with audit_context(AuditContext(user_id="bob")):
        new_team(auditor, session, "late")
    assert rollup.refresh(session) == 1

    hours, entities, users = _truth(session)
    first, last = _all_hours(hours)
    assert reads.hourly_totals(session, first, last) == dict(hours)
    assert dict(reads.top_keys(session, "entity", first, last)) == dict(entities)
    assert dict(reads.top_keys(session, "user", first, last)) == dict(users)
    assert reads.top_keys(session, "node", first, last) == [(auditor.node_id, 5)]
    for dim, truth in (("entity", entities), ("user", users)):  # the per-day rows agree
        assert dict(reads.top_keys(session, dim, first, last, daily=True)) == dict(truth)
    assert rollup.counted_and_head(session)[0] == rollup.counted_and_head(session)[1]


def test_a_bounded_refresh_counts_the_rest_next_time(session, auditor):
    for n in range(5):
        new_team(auditor, session, f"t{n}")
    assert rollup.refresh(session, limit=2) == 2
    assert rollup.refresh(session, limit=2) == 2
    assert rollup.refresh(session, limit=2) == 1
    hours, _, _ = _truth(session)
    assert sum(reads.hourly_totals(session, *_all_hours(hours)).values()) == 5


# SQLite serialises writers in one file: the race is for the servers.
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_racing_refreshes_count_each_event_once(engine, session, auditor, backend):
    for n in range(30):
        new_team(auditor, session, f"t{n}")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                rollup.refresh(own)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    hours, _, _ = _truth(session)
    assert sum(reads.hourly_totals(session, *_all_hours(hours)).values()) == 30
