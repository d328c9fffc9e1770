"""The timeline query on every backend: filters (alone and combined, including the
operation filter's two query shapes), newest-first total order, keyset pages."""

from __future__ import annotations

import itertools

import pytest

from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord, audit_context
from webapp.audit.context import AuditContext
from webapp.audit.store import TimelineFilter, timeline

pytestmark = pytest.mark.backends


@pytest.fixture
def log(session, auditor):
    """Teams and settings created, edited and deleted by two users."""
    for n in range(4):
        user = "ann" if n % 2 else "bob"
        with audit_context(AuditContext(user_id=user)):
            team = auditor.execute(session, CreateRecord("team", {"slug": f"t{n}",
                                                                  "name": f"T{n}"}))
            auditor.execute(session, UpdateRecord("team", team.record["id"], 1, {"name": f"U{n}"}))
            setting = auditor.execute(session, CreateRecord("setting", {"key": f"k.n{n}"}))
            if n % 2 == 0:
                auditor.execute(session, DeleteRecord("setting", setting.record["id"], 1))
    return timeline(session, limit=1000).events


def _matches(event, f: TimelineFilter) -> bool:
    return all(value is None or getattr(event, name) == value for name, value in (
        ("entity", f.entity), ("record_id", f.record_id), ("user_id", f.user_id),
        ("op", f.op), ("origin_node_id", f.origin_node_id)))


def test_timeline_is_newest_first_in_total_order(log):
    keys = [e.order_key for e in log]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys) == 14


@pytest.mark.parametrize("entity, user, op, record", list(itertools.product(
    [None, "team"], [None, "ann"], [None, "deleted", "updated"], [False, True])))
def test_every_filter_combination_returns_exactly_the_matching_events(
        session, log, entity, user, op, record):
    record_id = next(e.record_id for e in log if e.entity == "team") if record else None
    node = log[0].origin_node_id if user is None else None  # the node filter in the mix
    f = TimelineFilter(entity=entity, record_id=record_id, user_id=user, op=op,
                       origin_node_id=node)
    got = [e.event_id for e in timeline(session, f, limit=1000).events]
    assert got == [e.event_id for e in log if _matches(e, f)]


def test_time_range_is_inclusive_to_the_millisecond(session, log):
    middle = log[len(log) // 2]
    ms = middle.hlc >> 16
    got = timeline(session, TimelineFilter(since_ms=ms, until_ms=ms), limit=1000).events
    assert middle.event_id in [e.event_id for e in got]
    assert all(e.hlc >> 16 == ms for e in got)


@pytest.mark.parametrize("f", [TimelineFilter(), TimelineFilter(op="created"),
                               TimelineFilter(user_id="ann", op="updated")])
def test_keyset_pages_return_every_event_once(session, log, f):
    seen, cursor = [], None
    while True:
        page = timeline(session, f, before=cursor, limit=3)
        seen += [e.event_id for e in page.events]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [e.event_id for e in log if _matches(e, f)]
