"""`flask audit verify` finds every kind of tampering with a node's database, on every
backend: an edited, removed, inserted or reordered row of change_events, a bad
signature, and a current record or tombstone changed behind the app's back. Each is
reported with its kind, origin and event (or record), and the exit code is 1; a clean
log exits 0. The database is changed with plain SQL, as an intruder would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result

from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from webapp.audit import keys
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.audit.events import ChangeEvent
from webapp.audit.tables import change_events as ev
from webapp.audit.tables import tombstones
from webapp.domain import registry
from webapp.extensions import db

teams = registry.get("team").table


@pytest.fixture
def node(backend: str, tmp_path: Path) -> Iterator[Node]:
    """A signed log of five events: 1 create red, 2 create blue, 3 update red,
    4 create a setting, 5 delete blue."""
    made = make_node(backend, "verify", tmp_path)  # with a key: every event is signed
    red = made.run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    blue = made.run(CreateRecord("team", {"slug": "blue", "name": "Blue"})).record
    made.run(UpdateRecord("team", red["id"], 1, {"name": "Red 2"}))
    made.run(CreateRecord("setting", {"key": "site.name", "value": "x"}))
    made.run(DeleteRecord("team", blue["id"], 1))
    yield made
    dispose(made)


def verify(node: Node, *args: str) -> Result:
    return node.app.test_cli_runner().invoke(args=["audit", "verify", "--quiet", *args])


def execute(node: Node, *statements: Any) -> None:
    with node.app.app_context():
        for statement in statements:
            db.session.execute(statement)
        db.session.commit()


def event(node: Node, seq: int) -> ChangeEvent:
    [row] = node.query(sa.select(ev).where(ev.c.seq == seq))
    return ChangeEvent.from_row(row._mapping)


def broken(result: Result, kind: str, where: str, detail: str) -> None:
    """One printed break of `kind` at `where` whose text holds `detail`."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(kind.upper() + ":") and where in line]
    assert lines and any(detail in line for line in lines), result.output
    assert "FAILED" in result.stderr


def test_a_clean_log_verifies_and_exits_0(node: Node) -> None:
    result = verify(node)
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()  # no break: only the summary
    assert line.startswith("verified: 5 events of 1 origin(s) (5 covered by signatures")
    assert "3 records and tombstones; no break found" in line


def test_an_edited_event_is_reported_as_edited(node: Node) -> None:
    execute(node, ev.update().where(ev.c.seq == 2).values(params='{"name":"Evil"}'))
    result = verify(node)
    broken(result, "edited", f"seq 2 (event {event(node, 2).event_id})",
           "its hash does not match its content")
    assert f"origin {node.node_id}" in result.stdout


def test_a_removed_event_is_reported_as_a_gap_before_the_next(node: Node) -> None:
    execute(node, ev.delete().where(ev.c.seq == 3))
    result = verify(node)
    broken(result, "removed", "seq 4", "which no stored event has")
    broken(result, "record", "team", "version vector")  # red's row saw the removed update


def test_an_inserted_event_is_reported_as_inserted(node: Node) -> None:
    fourth, fifth = event(node, 4), event(node, 5)
    forged = replace(fourth, event_id="01" + "F" * 24, hlc=fourth.hlc + 1, seq=6,
                     idempotency_key="forged", record_id="01" + "E" * 24,
                     post_state={**(fourth.post_state or {}), "id": "01" + "E" * 24})
    forged = ChangeEvent.sealed(forged.content(), fourth.hash, 6)
    assert forged.hlc < fifth.hlc and fifth.prev_hash == fourth.hash
    execute(node, ev.insert().values(**forged.to_row()))
    result = verify(node)
    broken(result, "inserted", f"seq 6 (event {forged.event_id})",
           "claims the same predecessor as seq 5")


def test_a_log_emptied_behind_the_apps_back_is_reported(node: Node) -> None:
    execute(node, ev.delete())
    result = verify(node)
    broken(result, "removed", "its chain", "but no event of it is stored")
    broken(result, "record", "team ", "no event made it")


def test_swapped_rows_are_reported_as_reordered(node: Node) -> None:
    execute(node, ev.update().where(ev.c.seq == 3).values(seq=-3),
            ev.update().where(ev.c.seq == 4).values(seq=3),
            ev.update().where(ev.c.seq == -3).values(seq=4))
    broken(verify(node), "reordered", "seq 3", "has a lower seq")


def test_events_relinked_out_of_hlc_order_are_reported_as_reordered(node: Node) -> None:
    """An intruder swaps two events' times and re-hashes the chain so that every link
    holds: the links now run against HLC order (and the signatures no longer verify)."""
    chain = [event(node, seq) for seq in range(1, 6)]
    chain[2], chain[3] = replace(chain[2], hlc=chain[3].hlc), replace(chain[3], hlc=chain[2].hlc)
    prev, statements = chain[0].hash, []
    for item in chain[1:]:
        sealed = ChangeEvent.sealed(item.content(), prev, item.seq)
        statements.append(ev.update().where(ev.c.seq == item.seq).values(
            hlc=sealed.hlc, prev_hash=sealed.prev_hash, hash=sealed.hash))
        prev = sealed.hash
    execute(node, *statements)
    result = verify(node)
    broken(result, "reordered", "seq 3", "whose HLC is later")
    broken(result, "signature", "seq", "does not verify")


def forge_signature(node: Node, seq: int) -> None:
    forged = keys.sign(keys.new_private_key(), node.node_id, event(node, seq).hash)
    execute(node, ev.update().where(ev.c.seq == seq).values(signature=forged))


def test_a_forged_signature_on_the_chain_head_is_reported(node: Node) -> None:
    forge_signature(node, 5)
    result = verify(node)
    broken(result, "signature", "seq 5", "does not verify against the origin's pinned key")
    broken(result, "signature", "seq 5", "5 event(s) of this origin are covered by no valid")


def test_every_forged_signature_is_reported_when_every_one_is_checked(node: Node) -> None:
    """By default only the signatures the proof needs are checked (the last of each
    linked stretch); a forged one before it changes no event, and is found on request."""
    forge_signature(node, 2)
    assert verify(node).exit_code == 0
    broken(verify(node, "--every-signature"), "signature", "seq 2", "does not verify")


def test_a_record_edited_behind_the_apps_back_is_reported(node: Node) -> None:
    execute(node, teams.update().where(teams.c.slug == "red").values(name="Hacked"))
    broken(verify(node), "record", "team ", "name='Hacked' where its events say 'Red 2'")


def test_a_record_written_with_no_event_is_reported(node: Node) -> None:
    [red] = node.query(sa.select(teams).where(teams.c.slug == "red"))
    execute(node, teams.insert().values({**red._mapping, "id": "01" + "D" * 24,
                                         "slug": "ghost"}))
    broken(verify(node), "record", "team 01" + "D" * 24, "no event made it")


def test_a_removed_record_row_is_reported(node: Node) -> None:
    execute(node, teams.delete().where(teams.c.slug == "red"))
    broken(verify(node), "record", "team ", "its events say it exists, but it has no row")


def test_an_edited_tombstone_is_reported(node: Node) -> None:
    execute(node, tombstones.update().values(last_state='{"id":"x","name":"Other"}'))
    broken(verify(node), "record", "team ", "last state is not the state its deleting event")


def test_a_removed_tombstone_is_reported(node: Node) -> None:
    execute(node, tombstones.delete())
    broken(verify(node), "record", "team ", "it has no tombstone")


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("args, message", [
    (["--show", "-1"], "not in the range"),
    (["--show", "many"], "not a valid integer"),
    (["--bogus"], "No such option"),
    (["extra"], "unexpected extra argument"),
])
def test_bad_arguments_are_refused_with_a_reason(node: Node, args: list[str],
                                                 message: str) -> None:
    result = verify(node, *args)
    assert result.exit_code == 2 and message in result.output


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Two linked nodes with keys, each of which holds the other's events."""
    a, b = make_node(backend, "alpha", tmp_path), make_node("sqlite", "beta", tmp_path)
    link(a, b)
    route_in_process(a, b)
    yield a, b
    dispose(a)
    dispose(b)


def test_relayed_origins_and_merged_records_verify_and_an_edit_of_a_merge_is_found(
        pair: tuple[Node, Node]) -> None:
    a, b = pair
    team = a.run(CreateRecord("team", {"slug": "ops", "name": "Ops", "description": "d"}))
    assert b.sync("alpha").ok
    a.run(UpdateRecord("team", team.record["id"], 1, {"name": "Ops (alpha)"}))
    b.run(UpdateRecord("team", team.record["id"], 1, {"description": "By beta"}))
    assert a.sync("beta").ok and b.sync("alpha").ok  # concurrent: merged field by field
    [row] = a.query(sa.select(teams).where(teams.c.slug == "ops"))
    assert (row.name, row.description) == ("Ops (alpha)", "By beta")
    for node in (a, b):
        result = verify(node)
        assert result.exit_code == 0, result.output
        assert "3 events of 2 origin(s) (3 covered by signatures" in result.stdout
    execute(a, teams.update().where(teams.c.slug == "ops").values(description="d"))
    broken(verify(a), "record", f"team {team.record['id']}",
           "description='d' where its events say 'By beta'")


def test_records_are_compared_page_by_page(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of two records: every record is compared once, a changed one is found."""
    from webapp.audit.verify import recordcheck

    monkeypatch.setattr(recordcheck, "RECORDS", 2)
    clean = verify(node)
    assert clean.exit_code == 0 and "3 records and tombstones" in clean.stdout
    execute(node, teams.update().where(teams.c.slug == "red").values(name="Hacked"))
    broken(verify(node), "record", "team ", "name='Hacked'")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_progress_goes_to_stderr_a_line_per_tenth_when_not_a_terminal(node: Node) -> None:
    result = node.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "checking hash chains and signatures of 5 events" in result.stderr
    assert "chains: 5 of 5 events (100%)" in result.stderr
    assert "checking records and tombstones of 5 events" in result.stderr
    assert "checking" not in result.stdout  # stdout holds only breaks and the summary
