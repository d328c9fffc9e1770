"""Every business field type through command, row, event, canonical JSON and
replication, on SQLite, PostgreSQL and MariaDB: the same text everywhere, and a peer's
hostile value refused before anything is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.replication_cluster import Cluster, Node, resealed
from tests.support.databases import fresh_engine
from tests.support.ledger import LINE, STORED, TABLES, with_ledger
from webapp.audit.canonical import dumps
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.errors import IntegrityRuleError, ParamsError
from webapp.audit.ids import new_ulid
from webapp.audit.replication import PayloadError
from webapp.audit.replication.chains import verify_chains
from webapp.diffs import Fields, for_event


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(backend, tmp_path, 2, prefix="ledger", registry=with_ledger)
    try:
        yield made
    finally:
        made.dispose()


def values(record: dict[str, Any] | None) -> dict[str, Any]:
    assert record is not None
    return {k: record[k] for k in STORED}


def test_every_type_round_trips_as_the_same_text_on_every_database(pair: Cluster) -> None:
    a, b = pair.nodes
    made = a.run(CreateRecord("ledger", LINE)).event
    assert made is not None and made.post_state is not None
    assert values(made.post_state) == STORED
    assert values(a.record("ledger", made.record_id)) == STORED  # the row reads back alike
    # The hashed text is the same on every backend: these literals, not the database's.
    assert '"amount":"1234567890.50"' in dumps(made.post_state)
    assert '"rate":"12345678901234567890.0123456789"' in dumps(made.post_state)
    assert '"due_at":"2026-12-07T10:30:00Z"' in dumps(made.post_state)
    assert b.pull(a).applied == 1
    assert values(b.record("ledger", made.record_id)) == STORED
    assert verify_chains(b.session) == []


def test_updates_diff_readably_and_replicate(pair: Cluster) -> None:
    a, b = pair.nodes
    supplier = a.run(CreateRecord("lsupplier", {"name": "Acme"})).record
    line = a.run(CreateRecord("ledger", LINE)).record
    assert supplier is not None and line is not None
    changed = a.run(UpdateRecord("ledger", line["id"], 1, {
        "amount": "-0.5", "direction": "out", "supplier_id": supplier["id"],
        "booked_on": "2027-01-31", "due_at": None, "link": "http://x.example/"})).event
    assert changed is not None and changed.post_state is not None
    assert changed.post_state["amount"] == "-0.50" and changed.post_state["due_at"] is None
    state, _ = for_event(Fields.of(with_ledger.get("ledger")), changed)
    shown = {f.name: (f.before, f.after) for f in state.changed}
    assert shown["direction"] == ("Received", "Shipped")
    assert shown["amount"] == ("1234567890.50", "-0.50")
    assert shown["due_at"] == ("2026-12-07 10:30:00 UTC", None)
    assert b.pull(a).applied == 3
    assert b.record("ledger", line["id"]) == a.record("ledger", line["id"])
    # The optional reference is checked like any other: its target cannot go first.
    with pytest.raises(IntegrityRuleError, match="is still used by ledger line"):
        a.run(DeleteRecord("lsupplier", supplier["id"], 1))


HOSTILE_COMMANDS = [
    ("amount", "NaN"), ("amount", "Infinity"), ("amount", "1.005"), ("amount", 1.5),
    ("booked_on", "2026-02-30"), ("booked_on", "0999-01-01"),
    ("due_at", "2026-12-07T10:30:00.5Z"), ("link", "javascript:alert(1)"),
    ("quantity", 10**12 + 1), ("quantity", -1), ("direction", "Received"),
]
HOSTILE_PEERS = [
    ("amount", "NaN"), ("amount", "12.345"), ("booked_on", "10000-01-01"),
    ("link", "javascript:alert(1)"), ("quantity", 10**13), ("due_at", "2026-12-07T10:30:00"),
]


def test_a_command_with_a_hostile_value_writes_nothing(pair: Cluster) -> None:
    a, _ = pair.nodes
    for field, bad in HOSTILE_COMMANDS:
        with pytest.raises(ParamsError) as refused:
            a.run(CreateRecord("ledger", {**LINE, field: bad}))
        assert field in refused.value.errors, (field, bad)
    assert a.log() == []


def test_a_peer_sending_a_hostile_value_is_refused(pair: Cluster) -> None:
    a, b = pair.nodes
    made = a.run(CreateRecord("ledger", LINE)).event
    assert made is not None and made.post_state is not None
    for field, bad in HOSTILE_PEERS:
        forged = resealed(made, event_id=new_ulid(), post_state={**made.post_state, field: bad})
        with pytest.raises(PayloadError, match=f"ledger.{field}"):
            b.receive(a, [forged], 1)
    assert b.record("ledger", made.record_id) is None


def test_one_history_relayed_across_the_three_databases_is_the_same_everywhere(
        tmp_path: Path) -> None:
    """SQLite writes, MariaDB relays, PostgreSQL receives: every node holds the same
    events (hashes over canonical JSON) and the same record, value for value."""
    nodes = []
    for backend in ("sqlite", "mariadb", "postgresql"):
        node = Node(backend, fresh_engine(backend, f"ledger_x_{backend}", tmp_path), with_ledger)
        for table in TABLES:
            table.create(node.engine)
        node.start()
        nodes.append(node)
    try:
        sqlite, mariadb, postgresql = nodes
        line = sqlite.run(CreateRecord("ledger", LINE)).record
        assert line is not None
        sqlite.run(UpdateRecord("ledger", line["id"], 1, {"amount": "0.1", "rate": "-0.0000000001",
                                                          "booked_on": "1000-01-01",
                                                          "due_at": "9999-12-31T23:59:59Z"}))
        mariadb.pull(sqlite)
        postgresql.pull(mariadb)
        hashes = [[e.hash for e in node.log()] for node in nodes]
        assert hashes[0] == hashes[1] == hashes[2] and len(hashes[0]) == 2
        records = [node.record("ledger", line["id"]) for node in nodes]
        assert records[0] == records[1] == records[2]
        assert values(records[2]) == {**STORED, "amount": "0.10", "rate": "-0.0000000001",
                                      "booked_on": "1000-01-01", "due_at": "9999-12-31T23:59:59Z"}
        assert all(verify_chains(node.session) == [] for node in nodes)
    finally:
        for node in nodes:
            node.session.close()
            node.engine.dispose()
