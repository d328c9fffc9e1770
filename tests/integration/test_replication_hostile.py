"""A refused event stops its batch: nothing of the batch is applied, the cursor and the
clock stay where they were, the error names the event, and the same batch applies once
the event is acceptable. On every backend."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.integration.replication_cluster import Node, cluster_fixtures, resealed
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

cluster, nodes = cluster_fixtures(2, "rh")


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
    # The origin's chain as it would be had it written the future event itself.
    batch = [log[0], future, resealed(log[2], prev_hash=future.hash)]
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
    ({"name": "x" * 121}, "team.name must be at most 120"),
    ({"description": "x" * 4001}, "team.description must be at most 4000"),
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


@pytest.mark.parametrize("document", ["params", "pre_state"])
def test_a_text_longer_than_any_field_of_its_entity_is_refused(nodes: list[Node],
                                                               document: str) -> None:
    a, b = nodes
    log = three_events(a)
    bloated = {**getattr(log[1], document), "name": "x" * 4001}  # team's longest: 4000
    bad = resealed(log[1], **{document: bloated})
    # params are cleaned as the entity's own params (team.name: 120); a pre-state's texts
    # are bounded by the entity's longest field
    refused(b, a, [log[0], bad], PayloadError,
            rf"{document}\W+(team\.)?name (is longer than 4000|must be at most 120)")


@pytest.mark.parametrize(("source", "seq", "match"), [
    ("nobody", 3, "source node id"),
    (None, -1, "source seq"),
    (None, True, "source seq"),
    (None, 2**63, "source seq"),
    (None, "3", "source seq"),
])
def test_an_unknown_source_or_seq_is_refused(nodes: list[Node], source: str | None,
                                             seq: Any, match: str) -> None:
    a, b = nodes
    log = three_events(a)
    with pytest.raises(PayloadError, match=match):
        b.replicator.apply_batch(b.session, source or a.node_id, log, seq)
    assert b.event_ids() == set()
    assert b.replicator.cursor(b.session, a.node_id) == 0


def test_an_old_batch_delivered_again_never_moves_the_cursor_back(nodes: list[Node]) -> None:
    a, b = nodes
    log = three_events(a)
    b.receive(a, log, 3)
    report = b.receive(a, log[:1], 1)
    assert (report.applied, report.skipped) == (0, 1)
    assert b.replicator.cursor(b.session, a.node_id) == 3
