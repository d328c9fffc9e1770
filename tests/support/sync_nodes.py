"""Nodes for sync tests: a whole app per node on its own database, peers linked with a
shared secret, and two ways to reach a node -- in-process through its WSGI app (no
socket), or over real HTTP from a werkzeug server on a free port in a thread."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.test import Client

from tests.support.databases import database_url
from webapp import create_app
from webapp.audit.commands import Command, CommandResult
from webapp.audit.context import AuditContext, audit_context
from webapp.audit.keygen import give_key
from webapp.audit.keys import new_private_key
from webapp.audit.tables import change_events
from webapp.extensions import db
from webapp.runtime import auditor
from webapp.schema import metadata
from webapp.sync import peers as peer_store
from webapp.sync.service import replicator, run_sync
from webapp.sync.signing import new_secret


def wsgi_transport(app: Any) -> Any:
    """A PeerClient transport that calls a WSGI app in-process."""
    client = Client(app)

    def transport(url: str, headers: dict[str, str], max_bytes: int,
                  timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        path = url.split("://", 1)[1]
        path = path[path.index("/"):] if "/" in path else "/"
        response = client.get(path, headers=headers)
        return response.status_code, response.headers, response.get_data()[:max_bytes + 1]

    return transport


@dataclass
class Node:
    name: str
    app: Flask
    url: str = ""  # http://host:port once served; "http://<name>.test" in-process

    @property
    def node_id(self) -> str:
        with self.app.app_context():
            return str(auditor().node_id)

    def run(self, command: Command, user_id: str = "test") -> CommandResult:
        with self.app.app_context(), audit_context(AuditContext(user_id=user_id)):
            return auditor().execute(db.session(), command)

    def sync(self, peer: str, max_batches: int | None = None) -> Any:
        with self.app.app_context():
            found = peer_store.get_peer(db.session, peer)
            assert found is not None, peer
            return run_sync(found, max_batches=max_batches)

    def peer(self, name: str) -> peer_store.Peer:
        with self.app.app_context():
            found = peer_store.get_peer(db.session, name)
            assert found is not None
            return found

    def cursor(self, peer: str) -> int:
        node_id = self.peer(peer).node_id
        with self.app.app_context():
            return int(replicator().cursor(db.session, node_id)) if node_id else 0

    def event_count(self) -> int:
        with self.app.app_context():
            return int(db.session.execute(
                sa.select(sa.func.count()).select_from(change_events)).scalar_one())

    def query(self, statement: Any) -> list[Any]:
        with self.app.app_context():
            return list(db.session.execute(statement).all())


def make_node(backend: str, name: str, tmp: Path, keyed: bool = True, **config: Any) -> Node:
    """A node on its own database; `keyed`: with an Ed25519 key (as `flask node init`
    gives), so its events are signed."""
    url = database_url(backend, name, tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": secrets.token_hex(16), "HINDSIGHT_NODE_NAME": name,
                      **config})
    with app.app_context():
        metadata.create_all(db.engine)
        node_id = auditor().node_id  # create the node id now
        if keyed:
            give_key(db.session(), node_id, new_private_key())
    return Node(name, app, f"http://{name}.test")


def dispose(node: Node) -> None:
    with node.app.app_context():
        db.session.remove()
        db.engine.dispose()


def add_peer(node: Node, name: str, url: str | None, secret: str) -> None:
    with node.app.app_context():
        # The fake hosts (http://alpha.test) are reached in process, never over a network.
        peer_store.add_peer(db.session, name, url, secret, insecure=True)


def remove_peer(node: Node, name: str) -> None:
    with node.app.app_context():
        peer_store.remove_peer(db.session, name)


def link(a: Node, b: Node, secret: str | None = None) -> str:
    """Make a and b peers of each other (each may pull from the other)."""
    secret = secret or new_secret()
    add_peer(a, b.name, b.url, secret)
    add_peer(b, a.name, a.url, secret)
    return secret


def route_in_process(*nodes: Node) -> None:
    """Every node reaches every other by its fake URL, through its WSGI app."""
    by_host = {n.url.split("://", 1)[1]: wsgi_transport(n.app) for n in nodes}

    def transport(url: str, headers: dict[str, str], max_bytes: int,
                  timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        host = url.split("://", 1)[1].split("/", 1)[0]
        return by_host[host](url, headers, max_bytes, timeout)  # type: ignore[no-any-return]

    for node in nodes:
        node.app.config["HINDSIGHT_SYNC_TRANSPORT"] = transport


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve a WSGI app over real HTTP on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@contextmanager
def paired_with(app: Flask, tmp: Path) -> Iterator[tuple[Node, Node]]:
    """(alpha, beta): an app made elsewhere (the web tests' `app` fixture) as node alpha,
    linked and routed in-process to a new SQLite node beta."""
    alpha, beta = Node("alpha", app, "http://alpha.test"), make_node("sqlite", "beta", tmp)
    link(alpha, beta)
    route_in_process(alpha, beta)
    try:
        yield alpha, beta
    finally:
        dispose(beta)


def collide_team(a: Node, b: Node, slug: str = "ops") -> str:
    """A manual-policy collision: one team, renamed differently on a and on b after both
    saw it. Returns its id; a and b must be linked and routed. Afterwards both have
    pulled from each other, so each holds the same open conflict."""
    from webapp.audit.commands import CreateRecord, UpdateRecord

    team = a.run(CreateRecord("team", {"slug": slug, "name": "Operations",
                                       "description": "Keeps things running"})).record
    assert b.sync(a.name).ok
    a.run(UpdateRecord("team", team["id"], 1, {"name": "Ops (alpha)"}))
    b.run(UpdateRecord("team", team["id"], 1, {"name": "Ops (beta)",
                                                "description": "Runs the pager"}))
    assert a.sync(b.name).ok and b.sync(a.name).ok
    return str(team["id"])
