"""Chains and signatures on apply, on every backend: an origin's events join its chain
in order, an event whose predecessor has not arrived waits (signed) and is never
dropped, and a batch never applies an origin's events past its last signature."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.replication_cluster import Node, cluster_fixtures
from webapp.audit import keys
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.keygen import give_key
from webapp.audit.replication.chaintables import chain_heads, chain_waiting
from webapp.audit.replication.trust import UntrustedEventError
from webapp.audit.tables import nodes as nodes_table

cluster, nodes = cluster_fixtures(2, "rt")


def keyed_pair(a: Node, b: Node) -> None:
    """a has a key; b has pinned it (as a hello from a would)."""
    given = give_key(a.session, a.node_id, keys.new_private_key())
    b.session.execute(nodes_table.insert().values(
        node_id=a.node_id, name="a", is_self=False, first_seen_hlc=0,
        public_key=given.public_key, key_via=a.node_id))
    b.session.commit()


def count(b: Node, table: sa.Table) -> int:
    found = int(b.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    b.session.rollback()
    return found


def test_an_event_before_its_predecessor_waits_and_joins_when_it_arrives(nodes):
    a, b = nodes
    keyed_pair(a, b)
    team = a.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    assert team is not None
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Two"}))
    a.run(UpdateRecord("team", team["id"], 2, {"name": "Three"}))
    log = a.log()
    assert all(e.signature for e in log)  # one event per transaction: each signed
    report = b.receive(a, [log[2]], 3)  # a relay may hold them in another order
    assert (report.applied, report.parked) == (0, 1)
    assert count(b, chain_waiting) == 1 and b.record("team", team["id"]) is None
    b.receive(a, [log[0]], 3)
    assert b.record("team", team["id"])["name"] == "Red"  # type: ignore[index]
    report = b.receive(a, [log[1]], 3)
    assert report.applied == 2  # log[1], and log[2] that waited for it
    assert b.record("team", team["id"])["name"] == "Three"  # type: ignore[index]
    assert count(b, chain_waiting) == 0
    head = b.session.execute(sa.select(chain_heads.c.last_hash)).scalar_one()
    b.session.rollback()
    assert head == log[2].hash and b.event_ids() == a.event_ids()


def test_a_batch_never_applies_an_origins_events_past_its_last_signature(nodes):
    a, b = nodes
    keyed_pair(a, b)
    a.auditor.execute_all(a.session, [CreateRecord("team", {"slug": s, "name": s.title()})
                                      for s in ("one", "two", "three")])
    log = a.log()
    assert [e.signature is not None for e in log] == [False, False, True]
    with pytest.raises(UntrustedEventError, match="no signature of origin .* covers it"):
        b.receive(a, log[:2], 2)
    b.session.rollback()
    assert b.event_ids() == set() and b.replicator.cursor(b.session, a.node_id) == 0
    assert b.receive(a, log, 3).applied == 3


def test_a_keyless_origin_is_trusted_by_its_hash_chain_alone(nodes):
    a, b = nodes
    a.run(CreateRecord("team", {"slug": "red", "name": "Red"}))
    log = a.log()
    assert log[0].signature is None
    assert b.receive(a, log, 1).applied == 1
