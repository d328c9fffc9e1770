"""Forged events from a correctly authenticated but hostile peer: each is refused before
anything is written (event count, records and cursor stay; the reason is the peer's last
error), and the sync goes on once the peer is honest again.

Three keyed nodes: gamma writes, beta relays gamma's events and its own, alpha (the
puller, on every database) pulls from beta. Beta is hostile: a proxy in front of it
rewrites its signed answers (re-signing them with the pair secret, so only the payload
lies) and signs what it forges with a key of its own."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.test_sync_hostile import hostile
from tests.support.databases import BACKENDS
from tests.support.sync_nodes import Node, dispose, link, make_node, wsgi_transport
from webapp.audit import keys
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.events import ChangeEvent
from webapp.audit.hlc import pack, wall_ms
from webapp.audit.ids import new_ulid
from webapp.audit.passwords import hash_password
from webapp.audit.replication import event_from_wire, event_to_wire
from webapp.audit.replication.chaintables import chain_heads
from webapp.audit.tables import node_state
from webapp.domain import users

ATTACKER = keys.new_private_key()


@pytest.fixture(params=BACKENDS)
def trio(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Node, Node, Node, str]]:
    """(alpha, beta, gamma, alpha-beta secret), alpha having pulled everything once."""
    gamma = make_node("sqlite", "gamma", tmp_path)
    beta = make_node("sqlite", "beta", tmp_path)
    alpha = make_node(str(request.param), "alpha", tmp_path)
    link(beta, gamma)
    secret = link(alpha, beta)
    beta.app.config["HINDSIGHT_SYNC_TRANSPORT"] = wsgi_transport(gamma.app)
    gamma.run(CreateRecord("team", {"slug": "gamma", "name": "Gamma"}))
    beta.run(CreateRecord("team", {"slug": "beta", "name": "Beta"}))
    assert beta.sync("gamma").ok
    through(alpha, beta.app)
    assert alpha.sync("beta").ok
    yield alpha, beta, gamma, secret
    for node in (alpha, beta, gamma):
        dispose(node)


def through(puller: Node, wsgi: Any) -> None:
    puller.app.config["HINDSIGHT_SYNC_TRANSPORT"] = wsgi_transport(wsgi)


def head_of(node: Node, origin: str) -> tuple[str, int]:
    """The head of `origin`'s chain as `node` holds it."""
    if origin == node.node_id:
        row = node.query(sa.select(node_state.c.last_hash, node_state.c.last_hlc))[0]
    else:
        row = node.query(sa.select(chain_heads.c.last_hash, chain_heads.c.last_hlc)
                         .where(chain_heads.c.origin_node_id == origin))[0]
    return str(row[0]), int(row[1])


def forged_user(origin: str, prev_hash: str, signer: Any = ATTACKER,
                **state: Any) -> dict[str, Any]:
    """A self-consistent event creating an admin account, as a forger makes it."""
    record_id = new_ulid()
    values = {"username": "mallory", "email": "mallory@example.com", "full_name": "M",
              "role": "admin", "active": True, "password": hash_password("correct horse")}
    values.update(state)
    event = ChangeEvent.sealed(dict(
        event_id=new_ulid(), origin_node_id=origin, hlc=pack(wall_ms(), 7), entity="user",
        record_id=record_id, op="created", params=dict(values),
        pre_state=None, post_state={"id": record_id, **values}, vv_before={},
        vv_after={origin: 1}, schema_version=users.schema_version,
        idempotency_key="forged-" + record_id, meta={}, user_id=None, request_id=None,
        client_ip=None, session_id=None, tenant_id=None, trace_id=None, span_id=None),
        prev_hash, None)
    if signer is not None:
        event = replace(event, signature=keys.sign(signer, origin, event.hash))
    return event_to_wire(event)


def resealed(wire: dict[str, Any], signer: Any = None, **changes: Any) -> dict[str, Any]:
    """An event changed and re-hashed; it keeps its signature unless re-signed."""
    event = replace(event_from_wire(wire), **changes)
    event = replace(event, hash=event.chained_hash(event.prev_hash))
    if signer is not None:
        event = replace(event, signature=keys.sign(signer, event.origin_node_id, event.hash))
    return event_to_wire(event)


Forge = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def rewrite_last(make: Callable[[dict[str, Any]], dict[str, Any]]) -> Forge:
    """Replace the last event of the answer (beta's genuine new one) with a forgery."""
    def edit(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items[-1] = {**items[-1], "event": make(items[-1]["event"])}
        return items
    return edit


def refused_through(alpha: Node, beta: Node, secret: str, forge: Forge, reason: str,
                    hello: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    def transform(path: str, doc: dict[str, Any]) -> Any:
        if path.endswith("/events") and doc["events"]:
            doc["events"] = forge(doc["events"])
        if path.endswith("/hello") and hello is not None:
            doc = hello(doc)
        return doc

    before = (alpha.event_count(), alpha.cursor("beta"))
    through(alpha, hostile(beta.app, secret, transform))
    result = alpha.sync("beta")
    assert not result.ok, result
    assert reason.lower() in (result.error or "").lower(), result.error
    assert (alpha.event_count(), alpha.cursor("beta")) == before, "a refused batch was applied"
    assert reason.lower() in (alpha.peer("beta").last_error or "").lower()
    assert not alpha.query(sa.select(users.table).where(users.table.c.username == "mallory"))
    # Honest again: everything arrives, nothing was skipped.
    through(alpha, beta.app)
    assert alpha.sync("beta").ok
    assert alpha.event_count() == beta.event_count()


def test_an_event_in_the_pullers_own_name_is_refused(trio):
    alpha, beta, _, secret = trio
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    own = head_of(alpha, alpha.node_id)[0]
    refused_through(alpha, beta, secret, rewrite_last(
        lambda _: forged_user(alpha.node_id, own)), "this node's own key")


def test_an_event_of_a_third_node_signed_with_another_key_is_refused(trio):
    alpha, beta, gamma, secret = trio
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    head = head_of(alpha, gamma.node_id)[0]
    refused_through(alpha, beta, secret, rewrite_last(
        lambda _: forged_user(gamma.node_id, head)), "pinned key")


def test_an_event_with_a_broken_prev_hash_is_refused(trio):
    alpha, beta, gamma, secret = trio
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    refused_through(alpha, beta, secret, rewrite_last(
        lambda _: forged_user(gamma.node_id, secrets.token_hex(32))),
        "no valid signature of that origin covers it")


def test_an_unsigned_event_of_a_keyed_origin_is_refused(trio):
    alpha, beta, gamma, secret = trio
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    head = head_of(alpha, gamma.node_id)[0]
    refused_through(alpha, beta, secret, rewrite_last(
        lambda _: forged_user(gamma.node_id, head, signer=None)), "no signature of origin")


def test_a_valid_signature_over_different_content_is_refused(trio):
    alpha, beta, gamma, secret = trio
    team = alpha.query(sa.select(sa.text("id")).select_from(sa.table("teams"))
                       .where(sa.text("slug = 'gamma'")))[0][0]
    gamma.run(UpdateRecord("team", team, 1, {"name": "Gamma two"}))
    assert beta.sync("gamma").ok  # beta now holds gamma's genuine, signed update

    def edit(wire: dict[str, Any]) -> dict[str, Any]:
        assert wire["signature"] and wire["origin_node_id"] == gamma.node_id
        return resealed(wire, post_state={**wire["post_state"], "name": "Owned"},
                        params={"name": "Owned"})
    refused_through(alpha, beta, secret, rewrite_last(edit), "does not verify against origin")


def test_a_replayed_old_event_with_a_new_seq_is_refused(trio):
    alpha, beta, gamma, secret = trio
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    old = next(e for e in beta_log(beta) if e["origin_node_id"] == gamma.node_id)
    replayed = resealed(old, event_id=new_ulid(), record_id=old["record_id"])
    refused_through(alpha, beta, secret, rewrite_last(lambda _: replayed),
                    "replayed or forked")


def test_the_same_old_event_served_again_is_skipped_not_applied_twice(trio):
    alpha, beta, gamma, secret = trio
    old = next(e for e in beta_log(beta) if e["origin_node_id"] == gamma.node_id)
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))

    def transform(path: str, doc: dict[str, Any]) -> Any:
        if path.endswith("/events") and doc["events"]:
            first = doc["events"][0]
            doc["events"] = [{"seq": first["seq"], "event": old},
                             {**first, "seq": first["seq"] + 1}, *doc["events"][1:]]
            doc["head_seq"] += 1
        return doc
    through(alpha, hostile(beta.app, secret, transform))
    result = alpha.sync("beta")
    assert result.ok and (result.applied, result.skipped) == (1, 1), result
    assert alpha.event_count() == beta.event_count()


def test_a_relayed_origin_whose_key_changed_is_refused(trio):
    alpha, beta, gamma, secret = trio
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    other = keys.public_key_hex(ATTACKER)

    def hello(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "keys": {**doc["keys"], gamma.node_id: other}}
    refused_through(alpha, beta, secret, lambda items: items, "first learnt via", hello)


STATES = {
    "a role outside its list": ({"role": "root"}, "role must be one of"),
    "a malformed email": ({"email": "mallory-at-example"}, "not a valid email"),
    "bidi-control characters": ({"full_name": "Mal\u202elory"}, "text-direction"),
    "a foreign password hash": ({"password": "md5$5f4dcc3b5aa765d61d8327deb882cf99"},
                                "password hash in the form this node writes"),
    "a cleartext password": ({"password": "correct horse battery"}, "password hash"),
}


@pytest.mark.parametrize("case", sorted(STATES))
def test_a_state_the_entitys_own_params_would_refuse_is_refused(trio, case):
    alpha, beta, _, secret = trio
    state, reason = STATES[case]
    beta.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
    head = head_of(alpha, beta.node_id)[0]
    refused_through(alpha, beta, secret, rewrite_last(
        lambda _: forged_user(beta.node_id, head, **state)), reason)


def beta_log(beta: Node) -> list[dict[str, Any]]:
    from webapp.audit.store import events_after
    from webapp.extensions import db
    with beta.app.app_context():
        return [event_to_wire(e) for e in events_after(db.session, 0, 1000)]


def test_relays_keep_the_origins_signature_and_first_learnt_via(trio):
    alpha, beta, gamma, _ = trio
    from webapp.audit.tables import nodes
    rows = {r.node_id: r for r in alpha.query(sa.select(nodes))}
    assert rows[gamma.node_id].key_via == beta.node_id  # introduced by beta
    assert rows[beta.node_id].key_via == beta.node_id  # its own hello
    with gamma.app.app_context():
        from webapp.extensions import db
        gamma_key = keys.own_public_key(db.session)
    assert rows[gamma.node_id].public_key == gamma_key
    signed = [e for e in beta_log(beta) if e["origin_node_id"] == gamma.node_id]
    assert signed[-1]["signature"] and keys.verify_signature(
        gamma_key, gamma.node_id, signed[-1]["hash"], signed[-1]["signature"])
