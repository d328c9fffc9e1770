"""Event store reads: after a seq (for peers), per record, and the global timeline in
keyset pages ordered by (hlc, origin_node_id, event_id), newest first."""

from __future__ import annotations

import dataclasses

import pytest

from tests.integration.core_helpers import all_events, new_team
from webapp.audit import AuditContext, DeleteRecord, Entity, Registry, UpdateRecord
from webapp.audit.hlc import unpack
from webapp.audit.ids import new_ulid
from webapp.audit.params import Text
from webapp.audit.store import (
    TimelineFilter,
    decode_cursor,
    encode_cursor,
    events_after,
    last_seq,
    record_events,
    timeline,
    upcast,
)
from webapp.audit.tables import change_events, metadata


@pytest.fixture
def history(session, auditor):
    teams = [new_team(auditor, session, f"t{i:02d}") for i in range(12)]
    for team in teams[:5]:
        auditor.execute(session, UpdateRecord("team", team["id"], 1, {"name": "Renamed"}),
                        AuditContext(user_id="editor-1"))
    auditor.execute(session, DeleteRecord("team", teams[0]["id"], 2))
    session.rollback()
    return teams


def test_events_after_a_seq_come_in_seq_order_and_in_limited_pages(session, history):
    assert [e.seq for e in events_after(session, 0)] == list(range(1, 19))
    assert [e.seq for e in events_after(session, 10, limit=3)] == [11, 12, 13]
    assert events_after(session, 18) == [] and last_seq(session) == 18


def test_timeline_pages_cover_every_event_once_newest_first(session, history):
    pages, cursor = [], None
    while True:
        page = timeline(session, before=cursor, limit=5)
        pages.append(page.events)
        cursor = page.next_cursor
        if cursor is None:
            break
    shown = [e for page in pages for e in page]
    assert [len(p) for p in pages] == [5, 5, 5, 3]
    assert [e.order_key for e in shown] == sorted((e.order_key for e in shown), reverse=True)
    assert sorted(e.event_id for e in shown) == sorted(e.event_id for e in all_events(session))


def test_timeline_order_breaks_hlc_ties_by_node_then_event_id(session, history):
    # Events of other nodes may share an HLC with ours: stored side by side, they still
    # come in one total order, and keyset pages never split or repeat a tie.
    ours = all_events(session)[0]
    later_node = dataclasses.replace(ours, origin_node_id="7" + ours.origin_node_id[1:],
                                     event_id=new_ulid(), seq=101, idempotency_key="tie-1")
    same_node = dataclasses.replace(ours, event_id="0" * 26, seq=102, idempotency_key="tie-2")
    first_node = dataclasses.replace(ours, origin_node_id="0" * 26, event_id=new_ulid(),
                                     seq=103, idempotency_key="tie-3")
    session.execute(change_events.insert(), [e.to_row() for e in (later_node, same_node,
                                                                    first_node)])
    session.commit()
    whole = timeline(session, limit=100).events
    tied = [e.order_key for e in whole if e.hlc == ours.hlc]
    assert tied == [later_node.order_key, ours.order_key, same_node.order_key,
                    first_node.order_key]
    paged, cursor = [], None
    while True:
        page = timeline(session, before=cursor, limit=1)
        paged += [e.order_key for e in page.events]
        if (cursor := page.next_cursor) is None:
            break
    assert paged == [e.order_key for e in whole] and len(paged) == 21


def test_timeline_filters_by_entity_record_user_op_and_time(session, history):
    first = history[1]["id"]
    assert [e.op for e in record_events(session, "team", first).events] == [
        "updated", "created"]
    edits = timeline(session, TimelineFilter(user_id="editor-1"), limit=100).events
    assert len(edits) == 5 and {e.op for e in edits} == {"updated"}
    deletes = timeline(session, TimelineFilter(op="deleted"), limit=100).events
    assert [e.record_id for e in deletes] == [history[0]["id"]]
    assert timeline(session, TimelineFilter(entity="user")).events == []
    middle = all_events(session)[9]
    ms = unpack(middle.hlc)[0]
    window = timeline(session, TimelineFilter(since_ms=ms, until_ms=ms), limit=100).events
    assert middle in window and all(unpack(e.hlc)[0] == ms for e in window)


def test_a_cursor_survives_a_round_trip_through_a_url(session, history):
    page = timeline(session, limit=4)
    assert decode_cursor(encode_cursor(page.next_cursor)) == page.next_cursor
    assert decode_cursor(None) is None and decode_cursor("") is None


U = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@pytest.mark.parametrize("bad", ["x", "1.2", "1.2.3", f"-1.{U}.{U}", f"1.{U}.x", "1.2.3.4",
                                 f"١.{U}.{U}", f"{'9' * 25}.{U}.{U}", f"1.{U}.{U}.{U}"])
def test_a_malformed_cursor_is_refused(bad):
    with pytest.raises(ValueError):
        decode_cursor(bad)


def test_old_events_are_upcast_to_the_current_schema_when_read(session, history):
    def split_name(doc):
        if "name" in doc:
            doc["title"] = doc.pop("name")
        return doc

    team_v2 = Entity(name="team", table_name="upcast_probe_teams", schema_version=2,
                     upcasters={1: split_name},
                     fields={"slug": Text(), "title": Text(), "description": Text()})
    metadata.remove(team_v2.table)
    registry = Registry()
    registry.register(team_v2)
    old = all_events(session)[12]  # an update from schema version 1
    new = upcast(registry, old)
    assert new.schema_version == 2 and new.params == {"title": "Renamed"}
    assert new.pre_state["title"] == "T00" and "name" not in new.post_state
    paged = timeline(session, limit=100, registry=registry).events
    assert all(e.schema_version == 2 for e in paged)
    assert upcast(Registry(), old) is old  # an unknown entity is left as it was
