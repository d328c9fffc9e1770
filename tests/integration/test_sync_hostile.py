"""Hostile peers: a peer that lies, tampers or floods is refused with a clear error, and
nothing of its batch is applied -- the event count and the cursor stay where they were,
and the reason is on the peer's row for the nodes page. Sync resumes once it is honest.

The hostile peer is a real node behind a proxy that rewrites its signed responses
(re-signing them, so only the payload is wrong), reached in-process or over real HTTP."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request

from tests.support.sync_nodes import (
    Node,
    add_peer,
    dispose,
    link,
    make_node,
    remove_peer,
    serving,
    wsgi_transport,
)
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.hlc import HybridClock, wall_ms
from webapp.audit.replication import event_from_wire, event_to_wire
from webapp.audit.service import Auditor
from webapp.domain import registry
from webapp.sync import protocol
from webapp.sync.signing import NONCE_HEADER, sign_response

Transform = Callable[[str, dict[str, Any]], Any]  # (path, doc) -> doc or raw bytes


def hostile(app: Any, secret: str, transform: Transform) -> Any:
    """A WSGI app that forwards to `app` and rewrites its 200 answers, signed afresh."""
    inner = Client(app)

    def proxy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request = Request(environ)
        forwarded = {k: v for k, v in request.headers.items() if k.startswith("X-Hindsight")}
        answer = inner.get(request.full_path, headers=forwarded)
        body = answer.get_data()
        if answer.status_code == 200:
            out = transform(request.path, json.loads(body))
            body = out if isinstance(out, bytes) else protocol.dumps(out)
        headers = sign_response(secret, answer.status_code, body,
                                request.headers.get(NONCE_HEADER, ""))
        start_response(f"{answer.status_code} X", [("Content-Type", "application/json"),
                                                   *headers.items()])
        return [body]

    return proxy


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node, str]]:
    """(source, puller, secret): the source has three teams the puller has not seen."""
    source = make_node("sqlite", "source", tmp_path)
    puller = make_node("sqlite", "puller", tmp_path)
    secret = link(source, puller)
    for slug in ("red", "blue", "green"):
        source.run(CreateRecord("team", {"slug": slug, "name": slug.title()}))
    yield source, puller, secret
    dispose(source)
    dispose(puller)


def _through(puller: Node, wsgi: Any) -> None:
    puller.app.config["HINDSIGHT_SYNC_TRANSPORT"] = wsgi_transport(wsgi)


def _readd_source(puller: Node, url: str, secret: str) -> None:
    """The puller's peer "source" again, at another URL or with another secret."""
    remove_peer(puller, "source")
    add_peer(puller, "source", url, secret)


def _rewrite_events(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Transform:
    def transform(path: str, doc: dict[str, Any]) -> Any:
        if path.endswith("/events") and doc["events"]:
            doc["events"] = change(doc["events"])
        return doc

    return transform


def _resealed(wire: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An event changed and re-hashed, so it passes the tamper check and fails on content."""
    event = replace(event_from_wire(wire), **changes)
    event = replace(event, hash=event.chained_hash(event.prev_hash))
    return event_to_wire(event)


def _second(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Transform:
    def edit(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items[1] = {**items[1], "event": change(items[1]["event"])}
        return items

    return _rewrite_events(edit)


CASES: dict[str, tuple[Transform, str]] = {
    "malformed JSON": (lambda path, doc: b'{"protocol": 1, "events": ['
                       if path.endswith("/events") else doc,
                       "malformed JSON"),
    "oversized batch": (_rewrite_events(lambda items: items * 400), "oversized batch"),
    "unknown entity": (_second(lambda e: _resealed(e, entity="widget")), "widget"),
    "unknown schema version": (_second(lambda e: _resealed(e, schema_version=99)), "99"),
    "tampered event": (_second(lambda e: {**e, "post_state": {**e["post_state"], "name": "X"}}),
                       "Tamper"),
    "malformed event": (_second(lambda e: {**e, "hlc": "tomorrow"}), "hlc"),
    "events out of order": (_rewrite_events(lambda items: items[::-1]), "seq"),
    "another node id": (lambda path, doc: {**doc, "node_id": "01" + "A" * 24},
                        "pinned to node"),
}


def _assert_refused(puller: Node, before: int, reason: str) -> None:
    result = puller.sync("source")
    assert not result.ok, result
    assert reason.lower() in result.error.lower(), result.error
    assert puller.event_count() == before, "nothing of a refused batch may be applied"
    assert puller.cursor("source") == 0
    assert reason.lower() in (puller.peer("source").last_error or "").lower()


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_payload_is_refused_and_nothing_is_applied(
        pair: tuple[Node, Node, str], case: str) -> None:
    source, puller, secret = pair
    transform, reason = CASES[case]
    if case == "another node id":
        _through(puller, source.app)
        assert puller.sync("source").ok  # pins the source's real node id
        puller_events = puller.event_count()
        source.run(CreateRecord("team", {"slug": "late", "name": "Late"}))
        _through(puller, hostile(source.app, secret, transform))
        result = puller.sync("source")
        assert not result.ok and reason in result.error
        assert puller.event_count() == puller_events
        return
    if case == "oversized batch":
        puller.app.config["HINDSIGHT_SYNC_BATCH"] = 100
    before = puller.event_count()
    _through(puller, hostile(source.app, secret, transform))
    _assert_refused(puller, before, reason)
    # Once the peer is honest again, everything arrives: nothing was skipped or lost.
    _through(puller, source.app)
    assert puller.sync("source").ok
    assert puller.event_count() == before + 3
    assert puller.peer("source").last_error is None


def test_an_oversized_response_is_refused_by_size(pair: tuple[Node, Node, str]) -> None:
    source, puller, secret = pair
    puller.app.config["HINDSIGHT_SYNC_MAX_BYTES"] = 2000
    source.run(UpdateRecord("team", source.run(CreateRecord(
        "team", {"slug": "big", "name": "Big"})).record["id"], 1, {"description": "d" * 3000}))
    _through(puller, source.app)
    _assert_refused(puller, puller.event_count(), "oversized response")


def test_a_wrong_secret_is_refused_by_the_peer_and_nothing_is_applied(
        pair: tuple[Node, Node, str]) -> None:
    source, puller, _ = pair
    _readd_source(puller, source.url, "w" * 40)
    _through(puller, source.app)
    _assert_refused(puller, puller.event_count(), "authentication failed")


def test_a_response_signed_with_another_secret_is_refused(pair: tuple[Node, Node, str]) -> None:
    source, puller, _ = pair
    _through(puller, hostile(source.app, "z" * 40, lambda path, doc: doc))
    _assert_refused(puller, puller.event_count(), "response signature does not match")


def test_a_far_future_event_stops_the_sync_until_it_is_acceptable(
        pair: tuple[Node, Node, str]) -> None:
    source, puller, _ = pair
    # The source's clock runs two hours fast: its next event is far in our future.
    with source.app.app_context():
        fast = HybridClock(wall=lambda: wall_ms() + 7_200_000)
        core = source.app.extensions["hindsight.auditor"]
        source.app.extensions["hindsight.auditor"] = Auditor(registry, fast, core.node_id)
    source.run(CreateRecord("team", {"slug": "future", "name": "Future"}))
    source.run(CreateRecord("team", {"slug": "after", "name": "After"}))
    before = puller.event_count()
    _through(puller, source.app)
    puller.app.config["HINDSIGHT_SYNC_BATCH"] = 1  # one event per batch
    result = puller.sync("source")
    # The three good events apply; the future one is refused, and so nothing after it.
    assert not result.ok and "ClockDrift" in result.error and "ahead" in result.error
    assert puller.cursor("source") == 3 and puller.event_count() == before + 3
    assert "ClockDrift" in (puller.peer("source").last_error or "")
    assert not puller.sync("source").ok and puller.cursor("source") == 3  # still refused
    # The clock catches up (here: the allowed drift is raised): sync resumes, nothing lost.
    with puller.app.app_context():
        from webapp.sync.service import replicator

        replicator().clock.max_drift_ms = 3 * 3_600_000
    assert puller.sync("source").ok
    assert puller.event_count() == before + 5 and puller.cursor("source") == 5


@pytest.mark.parametrize("case", ["malformed JSON", "unknown entity"])
def test_hostile_payloads_over_real_http_are_refused(pair: tuple[Node, Node, str],
                                                     case: str) -> None:
    source, puller, secret = pair
    transform, reason = CASES[case]
    with serving(hostile(source.app, secret, transform)) as url:
        _readd_source(puller, url, secret)
        puller.app.config.pop("HINDSIGHT_SYNC_TRANSPORT", None)
        _assert_refused(puller, puller.event_count(), reason)


@contextmanager
def answering(reply: bytes) -> Iterator[str]:
    """A local TCP server that answers each connection with `reply`, HTTP or not."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                with conn:
                    conn.recv(65536)
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        thread.join(5)


@pytest.mark.parametrize("reply, reason", [
    (b"garbage\r\n\r\n", "malformed HTTP response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}", "not signed"),  # cut short
])
def test_a_peer_that_does_not_speak_http_is_refused(pair: tuple[Node, Node, str],
                                                    reply: bytes, reason: str) -> None:
    _, puller, secret = pair
    with answering(reply) as url:
        _readd_source(puller, url, secret)
        puller.app.config.pop("HINDSIGHT_SYNC_TRANSPORT", None)
        _assert_refused(puller, puller.event_count(), reason)


def test_an_unreachable_peer_is_reported(pair: tuple[Node, Node, str]) -> None:
    _, puller, secret = pair
    _readd_source(puller, "http://127.0.0.1:9", secret)
    result = puller.sync("source")
    assert not result.ok and "could not reach" in result.error
    assert "could not reach" in (puller.peer("source").last_error or "")
