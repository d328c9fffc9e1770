"""Export on every backend: every timeline filter gives exactly the events the timeline
shows, in its order, in batches of bounded size, as JSON Lines and as CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from webapp.audit import CreateRecord, DeleteRecord, UpdateRecord, audit_context, store
from webapp.audit.context import AuditContext
from webapp.audit.hlc import format_hlc
from webapp.audit.tables import nodes
from webapp.export.stream import chunks
from webapp.timeline import lookup
from webapp.timeline.filters import BadFilterError

pytestmark = pytest.mark.backends


@pytest.fixture
def log(session, auditor):
    """Teams and settings created, edited and deleted by two accounts; 15 events."""
    ann = auditor.execute(session, CreateRecord("user", {
        "username": "ann", "email": "ann@example.org", "role": "editor", "active": True})).record
    session.execute(nodes.update().values(name="home"))
    session.commit()
    for n in range(4):
        user = ann["id"] if n % 2 else "bob"
        with audit_context(AuditContext(user_id=user, request_id=f"req-{n}")):
            team = auditor.execute(session, CreateRecord("team", {"slug": f"t{n}",
                                                                  "name": f"T{n}"}))
            auditor.execute(session, UpdateRecord("team", team.record["id"], 1, {"name": f"U{n}"}))
            setting = auditor.execute(session, CreateRecord("setting", {"key": f"k.n{n}"}))
            if n % 2 == 0:
                auditor.execute(session, DeleteRecord("setting", setting.record["id"], 1))
    return store.timeline(session, limit=1000).events


def _export(session, args, fmt="jsonl", batch=4):
    query = lookup.parse(session, args)
    parts = [part.decode() for part in chunks(session, query, fmt, batch=batch)]
    return query, parts


def _minute(event):
    """The event's minute as a filter value, and that minute's first millisecond."""
    ms = (event.hlc >> 16) // 60_000 * 60_000
    return format_hlc(ms << 16)[:16], ms  # YYYY-MM-DDTHH:MM


def _cases(log):
    team = next(e.record_id for e in log if e.entity == "team")
    ann = next(e.user_id for e in log if e.user_id not in (None, "bob", "test"))
    newest, newest_ms = _minute(log[0])
    oldest, oldest_ms = _minute(log[-1])
    return [
        ({"entity": "team"}, lambda e: e.entity == "team"),
        ({"record": team.lower()}, lambda e: e.record_id == team),
        ({"user": "ann"}, lambda e: e.user_id == ann),
        ({"user": "bob", "op": "deleted"}, lambda e: e.user_id == "bob" and e.op == "deleted"),
        ({"node": "home"}, lambda e: True),
        ({"op": "updated"}, lambda e: e.op == "updated"),
        ({"from": newest}, lambda e: e.hlc >> 16 >= newest_ms),
        ({"to": oldest, "entity": "setting"},
         lambda e: e.entity == "setting" and e.hlc >> 16 < oldest_ms + 60_000),
    ]


def test_every_filter_exports_exactly_the_timelines_events_in_bounded_batches(session, log):
    for args, keep in _cases(log):
        query, parts = _export(session, args)
        lines = [json.loads(line) for part in parts for line in part.splitlines()]
        expected = [e for e in log if keep(e)]
        assert expected, args
        assert [d["event_id"] for d in lines] == [e.event_id for e in expected], args
        assert [e.event_id for e in store.timeline(session, query.filters, limit=1000).events] \
            == [d["event_id"] for d in lines]
        assert all(len(part.splitlines()) <= 4 for part in parts)  # one batch per chunk
        assert store.count(session, query.filters) == len(expected)


def test_a_jsonl_line_holds_the_whole_event(session, log):
    _, parts = _export(session, {"op": "updated"}, batch=100)
    doc = json.loads(parts[0].splitlines()[0])
    event = next(e for e in log if e.event_id == doc["event_id"])
    assert doc["hlc"] == event.hlc and doc["hlc_text"] == format_hlc(event.hlc)
    assert doc["params"] == event.params and doc["pre_state"] == event.pre_state
    assert doc["post_state"] == event.post_state and doc["op"] == "updated"
    assert doc["origin_node"] == "home" and doc["origin_node_id"] == event.origin_node_id
    assert doc["context"]["request_id"] == event.request_id
    assert doc["user_id"] == event.user_id and doc["hash"] == event.hash
    assert doc["user"] == ("ann" if event.user_id != "bob" else None)


def test_csv_has_one_row_per_event_under_its_header(session, log):
    _, parts = _export(session, {"entity": "setting"}, fmt="csv")
    rows = list(csv.DictReader(io.StringIO("".join(parts))))
    assert [r["event_id"] for r in rows] == [e.event_id for e in log if e.entity == "setting"]
    first = next(e for e in log if e.event_id == rows[0]["event_id"])
    assert rows[0]["hlc"] == str(first.hlc) and rows[0]["op"] == first.op
    assert json.loads(rows[0]["pre_state"] or "null") == first.pre_state


def test_a_filter_matching_no_record_exports_only_a_header(session, log):
    _, parts = _export(session, {"record": "01J00000000000000000000000"}, fmt="csv")
    assert len(parts) == 1 and parts[0].startswith('"event_id","hlc",')


@pytest.mark.parametrize("args", [{"entity": "nope"}, {"op": "renamed"}, {"from": "yesterday"},
                                  {"record": "short"}, {"node": "nowhere"},
                                  {"from": "2024-02-01", "to": "2024-01-01"}])
def test_bad_filters_are_refused_before_anything_is_exported(session, log, args):
    with pytest.raises(BadFilterError):
        lookup.parse(session, args)
