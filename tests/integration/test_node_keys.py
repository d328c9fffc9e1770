"""Node keys as an admin handles them: `flask node init` gives a node its key, `peers add
--key` pins one by hand, bad key input is refused with a reason, and a node restored
from an old backup re-learns its own later events from a peer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.sync_nodes import Node, add_peer, dispose, link, make_node, route_in_process
from webapp.audit import keys
from webapp.audit.commands import CreateRecord
from webapp.audit.tables import change_events, node_state
from webapp.domain import teams
from webapp.extensions import db
from webapp.sync.signing import new_secret


def cli(node: Node, *args: str, env: dict[str, str] | None = None):
    return node.app.test_cli_runner().invoke(args=list(args), env=env)


def own_key(node: Node) -> str | None:
    with node.app.app_context():
        return keys.own_public_key(db.session)


@pytest.fixture
def keyless(tmp_path: Path):
    node = make_node("sqlite", "old", tmp_path, keyed=False,
                     HINDSIGHT_NODE_KEY_FILE=str(tmp_path / "old.pem"))
    yield node
    dispose(node)


def test_node_init_gives_an_existing_node_a_key_and_signs_its_chain_head(keyless, tmp_path):
    keyless.run(CreateRecord("team", {"slug": "before", "name": "Before"}))
    done = cli(keyless, "node", "init", "--name", "old")
    assert done.exit_code == 0, done.output
    assert "1 event(s) it wrote before had no signature" in done.output
    assert "hash chain only" in done.output
    path = tmp_path / "old.pem"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    public = own_key(keyless)
    assert public and keys.fingerprint(public) in done.output
    assert "PRIVATE" not in done.output and path.read_text() not in done.output
    head = keyless.query(sa.select(change_events.c.hash, change_events.c.signature))[0]
    assert keys.verify_signature(public, keyless.node_id, head.hash, head.signature)
    keyless.run(CreateRecord("team", {"slug": "after", "name": "After"}))
    last = keyless.query(sa.select(change_events.c.hash, change_events.c.signature)
                         .order_by(change_events.c.seq.desc()))[0]
    assert keys.verify_signature(public, keyless.node_id, last.hash, last.signature)
    shown = cli(keyless, "node", "show")
    assert keys.fingerprint(public) in shown.output and "loaded" in shown.output
    again = cli(keyless, "node", "init", "--name", "old")  # a second run changes nothing
    assert again.exit_code == 0 and "already set" in again.output
    assert own_key(keyless) == public


def test_a_key_file_others_can_read_is_refused(keyless, tmp_path):
    path = tmp_path / "old.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    os.chmod(path, 0o644)
    done = cli(keyless, "node", "init", "--name", "old")
    assert done.exit_code != 0 and "chmod 600" in done.output
    assert own_key(keyless) is None  # nothing half done


def test_a_missing_key_file_is_reported_and_refused(keyless, tmp_path):
    assert cli(keyless, "node", "init", "--name", "old").exit_code == 0
    (tmp_path / "old.pem").unlink()
    shown = cli(keyless, "node", "show")
    assert "missing" in shown.output and "old.pem" in shown.output
    done = cli(keyless, "node", "init", "--name", "old")
    assert done.exit_code != 0 and "missing" in done.output


def test_a_malformed_key_in_the_environment_is_refused(keyless):
    keyless.app.config["HINDSIGHT_NODE_KEY"] = "not-a-key"
    done = cli(keyless, "node", "init", "--name", "old")
    assert done.exit_code != 0 and "64 hex digits" in done.output
    assert own_key(keyless) is None


@pytest.mark.parametrize("key", ["zz", "1234", "g" * 32, "ab:" * 20])
def test_a_bad_fingerprint_is_refused_by_peers_add(keyless, key):
    done = cli(keyless, "peers", "add", "p", "https://p.test", "--secret-env", "S",
               "--key", key, env={"S": new_secret()})
    assert done.exit_code != 0 and "fingerprint" in done.output
    assert "no peers" in cli(keyless, "peers", "list").output


def test_a_key_pinned_by_hand_refuses_any_other(tmp_path):
    a, b = make_node("sqlite", "a", tmp_path), make_node("sqlite", "b", tmp_path)
    route_in_process(a, b)
    right, wrong = keys.fingerprint(own_key(b) or ""), keys.fingerprint(own_key(a) or "")
    b.run(CreateRecord("team", {"slug": "b", "name": "B"}))
    secret = new_secret()
    add_peer(b, "a", a.url, secret)
    done = cli(a, "peers", "add", "b", b.url, "--secret-env", "S", "--key", wrong,
               "--insecure", env={"S": secret})
    assert done.exit_code == 0, done.output
    result = a.sync("b")
    assert not result.ok and "pinned by hand" in (result.error or "")
    assert a.event_count() == 0
    cli(a, "peers", "remove", "b")
    assert cli(a, "peers", "add", "b", b.url, "--secret-env", "S", "--key", right,
               "--insecure", env={"S": secret}).exit_code == 0
    assert a.sync("b").ok and a.event_count() == 1
    dispose(a)
    dispose(b)


def _restart(node: Node) -> None:
    """A new process: the app's core objects are built again from the database."""
    node.app.extensions.pop("hindsight.auditor", None)
    node.app.extensions.pop("hindsight.replicator", None)


def test_a_node_restored_from_an_old_backup_relearns_its_own_later_events(tmp_path):
    alpha, beta = make_node("sqlite", "alpha", tmp_path), make_node("sqlite", "beta", tmp_path)
    link(alpha, beta)
    route_in_process(alpha, beta)
    alpha.run(CreateRecord("team", {"slug": "one", "name": "One"}))
    file = Path(alpha.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    with alpha.app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.copy(file, tmp_path / "backup.sqlite3")
    for slug in ("two", "three"):
        alpha.run(CreateRecord("team", {"slug": slug, "name": slug.title()}))
    assert beta.sync("alpha").ok
    with alpha.app.app_context():  # the disk fails; the backup comes back
        db.session.remove()
        db.engine.dispose()
    shutil.copy(tmp_path / "backup.sqlite3", file)
    _restart(alpha)
    assert alpha.event_count() == 1
    result = alpha.sync("beta")
    assert result.ok, result.error
    slugs = {r.slug for r in alpha.query(sa.select(teams.table.c.slug))}
    assert slugs == {"one", "two", "three"}
    beta_head = beta.query(sa.select(change_events.c.hash)
                           .where(change_events.c.origin_node_id == alpha.node_id)
                           .order_by(change_events.c.hlc.desc()))[0][0]
    assert alpha.query(sa.select(node_state.c.last_hash))[0][0] == beta_head
    alpha.run(CreateRecord("team", {"slug": "four", "name": "Four"}))  # links after them
    assert beta.sync("alpha").ok
    assert {r.slug for r in beta.query(sa.select(teams.table.c.slug))} == {
        "one", "two", "three", "four"}
    dispose(alpha)
    dispose(beta)
