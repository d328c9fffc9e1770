"""Each node's events form a hash chain: every event's prev_hash is the hash before it,
and the hash covers everything the origin decided."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from tests.integration.core_helpers import all_events, new_team, node_row
from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import StaleVersionError
from webapp.audit.node import GENESIS_HASH
from webapp.audit.tables import change_events


def write_some(session, auditor) -> None:
    red = new_team(auditor, session, "red")
    auditor.execute(session, UpdateRecord("team", red["id"], 1, {"name": "Crimson"}))
    auditor.execute_all(session, [CreateRecord("team", {"slug": f"t{i}", "name": "T"})
                                  for i in range(4)])
    auditor.execute(session, DeleteRecord("team", red["id"], 2))


def test_each_event_links_to_the_one_before_and_the_node_holds_the_head(session, auditor):
    write_some(session, auditor)
    events = all_events(session)
    assert len(events) == 7
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    for e in events:
        assert e.hash == e.chained_hash(e.prev_hash) and len(e.hash) == 64
    assert node_row(session)[2] == events[-1].hash


def test_a_failed_command_does_not_fork_the_chain(session, auditor):
    red = new_team(auditor, session, "red")
    with pytest.raises(StaleVersionError):
        auditor.execute(session, UpdateRecord("team", red["id"], 9, {"name": "stale"}))
    second = auditor.execute(session, UpdateRecord("team", red["id"], 1, {"name": "ok"})).event
    assert second.prev_hash == all_events(session)[0].hash


def test_the_hash_reveals_an_edited_stored_event(session, auditor):
    write_some(session, auditor)
    target = all_events(session)[2]
    session.execute(change_events.update().where(change_events.c.seq == target.seq)
                    .values(params='{"name":"forged"}'))
    session.commit()
    forged = all_events(session)[2]
    assert forged.hash == target.hash
    assert forged.chained_hash(forged.prev_hash) != forged.hash


def test_every_field_the_origin_decided_is_covered_by_the_hash(session, auditor):
    write_some(session, auditor)
    event = all_events(session)[1]
    changes = {"event_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "hlc": event.hlc + 1, "op": "created",
               "user_id": "mallory", "vv_after": {}, "params": {}, "meta": {"x": 1},
               "idempotency_key": "other", "client_ip": "10.0.0.1", "post_state": None}
    for field, value in changes.items():
        altered = dataclasses.replace(event, **{field: value})
        assert altered.chained_hash(event.prev_hash) != event.hash, field
    # ... while the node-local seq is not: a replica stores the event under its own seq.
    assert dataclasses.replace(event, seq=999).chained_hash(event.prev_hash) == event.hash


def test_a_removed_event_breaks_the_chain(session, auditor):
    write_some(session, auditor)
    session.execute(change_events.delete().where(change_events.c.seq == 3))
    session.commit()
    events = all_events(session)
    links = [after.prev_hash == before.hash for before, after in zip(events, events[1:],
                                                                     strict=False)]
    assert links.count(False) == 1
    assert session.execute(sa.select(sa.func.count()).select_from(change_events)).scalar() == 6
