"""A refused event stops its batch: nothing of the batch is applied, the cursor and the
clock stay where they were, the error names the event, and the same batch applies once
the event is acceptable. On every backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.integration.replication_cluster import Cluster, Node
from tests.support.databases import BACKENDS
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.errors import ClockDriftError, UnknownEntityError
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import HybridClock, pack, wall_ms
from webapp.audit.replication import (
    EventClockDriftError,
    PayloadError,
    ReplicationError,
    Replicator,
    SchemaVersionError,
    TamperedEventError,
)
from webapp.domain import registry


@pytest.fixture(scope="module", params=BACKENDS)
def _cluster(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(str(request.param), tmp_path_factory.mktemp("rh"), 2, prefix="rh")
    yield cluster
    cluster.dispose()


@pytest.fixture
def nodes(_cluster: Cluster) -> list[Node]:
    _cluster.reset()
    return _cluster.nodes


def resealed(event: ChangeEvent, **changes: Any) -> ChangeEvent:
    """The event changed and given a matching hash: what a buggy or hostile peer sends."""
    changed = replace(event, **changes)
    return replace(changed, hash=changed.chained_hash(changed.prev_hash))


def three_events(a: Node) -> list[ChangeEvent]:
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Two"}))
    a.run(CreateRecord("setting", {"key": "site.name", "value": "x"}))
    return a.log()


def refused(b: Node, a: Node, batch: list[ChangeEvent], error: type[Exception],
            match: str) -> ReplicationError:
    before = (b.snapshot(), b.event_ids(), b.replicator.cursor(b.session, a.node_id))
    clock = b.replicator.clock.last
    with pytest.raises(error, match=match) as caught:
        b.replicator.apply_batch(b.session, a.node_id, batch, 99)
    b.session.rollback()
    after = (b.snapshot(), b.event_ids(), b.replicator.cursor(b.session, a.node_id))
    assert after == before, "part of a refused batch was applied"
    assert b.replicator.clock.last == clock
    assert isinstance(caught.value, ReplicationError)
    return caught.value


def test_a_far_future_event_stops_the_batch_and_applies_once_acceptable(
        nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    future = resealed(log[1], hlc=pack(wall_ms() + 3_600_000, 0))
    batch = [log[0], future, log[2]]
    error = refused(b, a, batch, EventClockDriftError, "ahead of the local clock")
    assert isinstance(error, ClockDriftError)  # one HTTP mapping for the core's error
    assert (error.event_id, error.index) == (future.event_id, 1)
    # Once the wall clock has caught up (here: a node allowing more drift), it applies.
    lenient = Replicator(registry, HybridClock(max_drift_ms=2 * 3_600_000), b.node_id)
    report = lenient.apply_batch(b.session, a.node_id, batch, 3)
    assert (report.applied, report.skipped) == (3, 0)
    assert lenient.cursor(b.session, a.node_id) == 3


def test_an_event_of_an_unknown_entity_is_refused(nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    alien = resealed(log[2], entity="spaceship")
    error = refused(b, a, [log[0], log[1], alien], UnknownEntityError, "unknown entity")
    assert error.index == 2


def test_an_event_of_a_newer_schema_is_refused(nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    newer = resealed(log[0], schema_version=2)
    refused(b, a, [newer], SchemaVersionError, "schema version 2 is newer")


def test_an_altered_event_is_refused(nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    altered = replace(log[1], post_state={**(log[1].post_state or {}), "name": "Evil"})
    refused(b, a, [log[0], altered], TamperedEventError, "hash does not match")


@pytest.mark.parametrize(("state", "match"), [
    ({"name": "x" * 121}, "team.name is longer than 120"),
    ({"slug": None}, "team.slug is required"),
    ({"extra": 1}, "does not have the fields of team"),
    ({"name": 7}, "team.name must be text"),
])
def test_a_state_that_does_not_fit_the_entity_is_refused(nodes: list[Node],
                                                         state: dict[str, Any],
                                                         match: str) -> None:
    a, b = nodes
    log = three_events(a)
    bad = resealed(log[1], post_state={**(log[1].post_state or {}), **state})
    refused(b, a, [log[0], bad], PayloadError, match)


def test_an_unknown_source_or_seq_is_refused(nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    with pytest.raises(PayloadError, match="source node id"):
        b.replicator.apply_batch(b.session, "nobody", log, 3)
    with pytest.raises(PayloadError, match="source seq"):
        b.replicator.apply_batch(b.session, a.node_id, log, -1)
    assert b.event_ids() == set()


def test_an_old_batch_delivered_again_never_moves_the_cursor_back(nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    b.receive(a, log, 3)
    report = b.receive(a, log[:1], 1)
    assert (report.applied, report.skipped) == (0, 1)
    assert b.replicator.cursor(b.session, a.node_id) == 3
