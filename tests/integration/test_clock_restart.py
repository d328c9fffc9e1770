"""The clock never goes back on a node: not across restarts with a wall clock behind the
last stored HLC, and not between processes that share the node's database."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from tests.integration.core_helpers import all_events, new_team, node_row
from webapp.audit import CreateRecord, UpdateRecord
from webapp.audit.hlc import HybridClock, unpack, wall_ms
from webapp.audit.node import init_node, load_node
from webapp.audit.service import Auditor
from webapp.domain import registry

HOUR = 3_600_000


def test_after_a_restart_with_the_wall_clock_an_hour_behind_new_events_still_rise(
        engine, session):
    ahead = HybridClock(wall=lambda: wall_ms() + HOUR)
    node_id = init_node(session, "restart", ahead)
    first = Auditor(registry, ahead, node_id)
    team = new_team(first, session, "red")
    last_before = node_row(session)[1]
    assert unpack(last_before)[0] > wall_ms() + HOUR // 2

    # "Restart": a new process builds a fresh clock that knows nothing, and its wall
    # clock has stepped back an hour. The node state row still holds the last HLC.
    behind = HybridClock()
    restarted = Auditor(registry, behind, node_id)
    with Session(engine) as fresh:
        event = restarted.execute(fresh, UpdateRecord("team", team["id"], 1, {"name": "R"})).event
    assert event.hlc > last_before
    assert unpack(event.hlc)[0] == unpack(last_before)[0]  # held at the stored millisecond
    assert [e.seq for e in all_events(session)] == [1, 2]


def test_a_clock_built_from_the_stored_last_hlc_starts_after_it(session):
    ahead = HybridClock(wall=lambda: wall_ms() + HOUR)
    node_id = init_node(session, "restart", ahead)
    new_team(Auditor(registry, ahead, node_id), session, "red")
    stored = load_node(session)
    assert stored == (node_id, node_row(session)[1])
    assert unpack(stored[1])[0] > wall_ms() + HOUR // 2  # the last stamp is an hour ahead
    session.rollback()
    clock = HybridClock()  # as a new process builds it: from the stored stamp
    clock.observe(stored[1])
    assert clock.now() > stored[1]


def test_two_processes_with_different_wall_clocks_share_one_rising_order(engine, session):
    # Two auditors on one database stand for two worker processes: separate clocks,
    # one node. The one whose wall clock is behind still stamps after the other.
    node_id = init_node(session, "workers", HybridClock())
    fast = Auditor(registry, HybridClock(wall=lambda: wall_ms() + 10_000), node_id)
    slow = Auditor(registry, HybridClock(wall=lambda: wall_ms() - 10_000), node_id)
    with Session(engine) as a, Session(engine) as b:
        for n in range(10):
            (fast if n % 2 else slow).execute(
                a if n % 2 else b, CreateRecord("team", {"slug": f"t{n}", "name": f"T{n}"}))
            time.sleep(0.001)
    events = all_events(session)
    assert [e.seq for e in events] == list(range(1, 11))
    assert all(x.hlc < y.hlc for x, y in zip(events, events[1:], strict=False))
