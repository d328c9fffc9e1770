"""The serving side of sync: every request must carry a fresh, valid HMAC signature from
a known peer. Anything else gets a JSON 401 with one reason for all, and no events; the
operator's log says why."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.test import Client

from tests.support.sync_nodes import Node, add_peer, dispose, make_node
from webapp import create_app
from webapp.audit.commands import CreateRecord
from webapp.extensions import db
from webapp.sync import nonces, protocol
from webapp.sync.signing import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIME_HEADER,
    now_ms,
    sign_request,
    verify_response,
)
from webapp.sync.tables import sync_nonces

SECRET = "peer-secret-" + "x" * 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Node]:
    node = make_node("sqlite", "server", tmp_path)
    add_peer(node, "puller", None, SECRET)
    for slug in ("red", "blue", "green"):
        node.run(CreateRecord("team", {"slug": slug, "name": slug.title()}))
    yield node
    dispose(node)


def _get(client: Client, path: str, query: str = "", secret: str = SECRET,
         send_query: str | None = None, **sign: object) -> tuple[int, dict, object]:
    signed = sign_request(secret, "GET", path, query, **sign)  # type: ignore[arg-type]
    target = path + ("?" + (query if send_query is None else send_query) if query else "")
    response = client.get(target, headers=signed.as_dict())
    return response.status_code, json.loads(response.get_data()), (response, signed)


def test_a_signed_request_from_a_known_peer_gets_a_signed_batch(server: Node) -> None:
    client = Client(server.app)
    status, doc, (response, signed) = _get(client, "/sync/events", "after=0&limit=2")
    assert status == 200
    assert [item["seq"] for item in doc["events"]] == [1, 2]
    assert doc["head_seq"] == 3 and doc["more"] is True and doc["node_id"] == server.node_id
    verify_response(SECRET, response.headers, 200, response.get_data(), signed.nonce)


def _logged_refusal(caplog: pytest.LogCaptureFixture, reason: str) -> bool:
    """The operator's log has the refusal as a JSON line, with its reason."""
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "hindsight.access"]
    return any(line["event"] == "sync_refused" and reason in line["detail"] for line in lines)


@pytest.mark.parametrize("case, reason", [
    ("wrong secret", "unknown key id"),
    ("missing headers", "missing signature header"),
    ("altered query", "signature does not match"),
    ("stale timestamp", "away from this node's clock"),
    ("forged signature", "signature does not match"),
])
def test_a_bad_request_gets_one_401_reason_and_no_events_and_is_logged(
        server: Node, case: str, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(server.app)
    if case == "wrong secret":
        status, doc, _ = _get(client, "/sync/events", "after=0", secret="w" * 40)
    elif case == "missing headers":
        response = client.get("/sync/events?after=0")
        status, doc = response.status_code, json.loads(response.get_data())
    elif case == "altered query":
        status, doc, _ = _get(client, "/sync/events", "after=2", send_query="after=0")
    elif case == "stale timestamp":
        status, doc, _ = _get(client, "/sync/events", "after=0", timestamp=now_ms() - 3_600_000)
    else:
        signed = sign_request(SECRET, "GET", "/sync/events", "after=0")
        headers = {**signed.as_dict(), "X-Hindsight-Signature": "0" * 64}
        response = client.get("/sync/events?after=0", headers=headers)
        status, doc = response.status_code, json.loads(response.get_data())
    assert status == 401
    assert doc == {"error": "authentication failed"}  # not whether the key id exists
    assert _logged_refusal(caplog, reason)


@pytest.mark.parametrize("header, value, reason", [
    (KEY_HEADER, "NOT-A-KEY-ID-AT-ALL", "malformed key id"),
    (TIME_HEADER, "1²", "malformed timestamp"),  # "²".isdigit() is True; int("²") fails
    (TIME_HEADER, "-1700000000000", "malformed timestamp"),
    (TIME_HEADER, "9" * 16, "malformed timestamp"),
    (NONCE_HEADER, "short", "malformed nonce"),
    (NONCE_HEADER, "n" * 65, "malformed nonce"),
    (NONCE_HEADER, "spaces are not url safe", "malformed nonce"),
    (SIGNATURE_HEADER, "Z" * 64, "malformed signature"),
])
def test_a_malformed_signature_header_gets_401_and_is_logged_with_its_reason(
        server: Node, header: str, value: str, reason: str,
        caplog: pytest.LogCaptureFixture) -> None:
    headers = {**sign_request(SECRET, "GET", "/sync/events", "after=0").as_dict(), header: value}
    response = Client(server.app).get("/sync/events?after=0", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication failed"}
    assert _logged_refusal(caplog, reason)
    with server.app.app_context():  # refused before its nonce was recorded
        assert db.session.execute(sa.select(sync_nonces)).all() == []


def test_a_replayed_request_is_refused_even_by_another_worker_process(
        server: Node, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(server.app)
    signed = sign_request(SECRET, "GET", "/sync/events", "after=0")
    first = client.get("/sync/events?after=0", headers=signed.as_dict())
    assert first.status_code == 200
    again = client.get("/sync/events?after=0", headers=signed.as_dict())
    assert again.status_code == 401 and _logged_refusal(caplog, "replayed")
    # A second app on the same database stands in for another worker process.
    other = create_app({**server.app.config})
    caplog.clear()
    replay = Client(other).get("/sync/events?after=0", headers=signed.as_dict())
    assert replay.status_code == 401 and _logged_refusal(caplog, "replayed")


def test_limit_is_capped_and_bad_arguments_get_a_signed_400(
        server: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "MAX_LIMIT", 2)
    client = Client(server.app)
    status, doc, _ = _get(client, "/sync/events", "after=0&limit=100000")
    assert status == 200 and len(doc["events"]) == 2 and doc["more"] is True
    for query, field in (("after=-1", "after"), ("after=abc", "after"), ("limit=5", "after"),
                         ("after=99999999999999999999", "after"), ("after=%C2%B2", "after"),
                         ("after=0&limit=0", "limit"), ("after=0&limit=1.5", "limit")):
        status, doc, (response, signed) = _get(client, "/sync/events", query)
        assert status == 400, query
        assert doc["error"].startswith(field), (query, doc)
        assert "events" not in doc
        verify_response(SECRET, response.headers, 400, response.get_data(), signed.nonce)


def test_hello_names_the_node_and_its_head(server: Node) -> None:
    status, doc, _ = _get(Client(server.app), "/sync/hello")
    assert status == 200
    assert doc["node_id"] == server.node_id and doc["name"] == "server"
    assert doc["head_seq"] == 3 and doc["nodes"][server.node_id] == "server"


def test_sync_pages_need_no_login_but_refuse_other_methods(server: Node) -> None:
    signed = sign_request(SECRET, "POST", "/sync/events", "after=0")
    response = Client(server.app).post("/sync/events?after=0", headers=signed.as_dict())
    assert response.status_code == 405


def _nonces(node: Node) -> set[str]:
    return {row.nonce for row in node.query(sa.select(sync_nonces.c.nonce))}


def test_expired_nonces_are_swept_now_and_then_not_on_every_request(
        server: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    def expired(nonce: str) -> None:
        with server.app.app_context():
            db.session.execute(sync_nonces.insert().values(
                key_id="0" * 16, nonce=nonce, expires_ms=1))
            db.session.commit()

    client = Client(server.app)
    expired("left-by-a-long-gone-request")
    status, _, (_, first) = _get(client, "/sync/hello")
    assert status == 200
    assert _nonces(server) == {first.nonce}  # the first request of a process sweeps
    expired("expired-just-after-the-sweep")
    status, _, (_, second) = _get(client, "/sync/hello")
    assert status == 200  # within PURGE_EVERY_MS: no sweep, just the insert
    assert _nonces(server) == {first.nonce, second.nonce, "expired-just-after-the-sweep"}
    monkeypatch.setattr(nonces, "PURGE_EVERY_MS", 0)
    status, _, (_, third) = _get(client, "/sync/hello")
    assert status == 200
    assert _nonces(server) == {first.nonce, second.nonce, third.nonce}


def test_nonce_bookkeeping_survives_concurrent_requests(backend: str,
                                                        engine: sa.Engine) -> None:
    """Every backend: workers each sweeping and recording at once never fail (on MariaDB,
    a sweep and an insert in one transaction deadlocked in each of 3 runs of this test)."""
    failures: list[str] = []
    rounds = 30 if backend == "sqlite" else 200  # SQLite runs one writer at a time

    def worker(n: int) -> None:
        with Session(engine) as session:
            for i in range(rounds):
                now = now_ms()
                try:  # a 20 ms lifetime, so each sweep has rows to delete
                    nonces.purge_expired(session, now)
                    assert nonces.remember(session, "k" * 16, f"worker{n}-request{i:04d}", now, 20)
                except Exception as exc:  # noqa: BLE001 - any failure is the finding
                    failures.append(f"{type(exc).__name__}: {str(exc)[:120]}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
