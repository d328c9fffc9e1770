"""Sync outlives hostile answers: JSON nested 100,000 deep, a lone surrogate, a 500 in
the middle of a catch-up, or anything else one peer's answer provokes becomes a clear
refusal of that peer (its last error), and `flask sync --loop` goes on pulling the
other peers. Nodes are real apps on SQLite; the hostile peer is a real node behind a
proxy that rewrites its answers and signs them afresh (so only the payload is wrong)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile import DEEP, Answer, nested, proxy
from tests.support.sync_nodes import Node, dispose, link, make_node, wsgi_transport
from webapp.audit.commands import CreateRecord
from webapp.sync import protocol


def nested_hello(path: str, n: int, body: bytes) -> tuple[int, bytes]:
    return 200, (b'{"protocol":1,"nodes":' + b"{\"a\":" * DEEP + b"1" + b"}" * DEEP + b"}"
                 if path.endswith("/hello") else body)


def surrogate(path: str, n: int, body: bytes) -> tuple[int, bytes]:
    if path.endswith("/events"):
        return 200, body.replace(b'"name":"Red"', b'"name":"R\\ud800d"', 1)
    return 200, body


def surrogate_error(path: str, n: int, body: bytes) -> tuple[int, bytes]:
    """A 500 whose reason holds a lone surrogate and nests deeply."""
    return 500, b'{"error":"\\udfff' + b"[" * DEEP + b'"}'


def fails_second_batch(path: str, n: int, body: bytes) -> tuple[int, bytes]:
    if path.endswith("/events") and n > 2:  # hello, first batch, then a 500
        return 500, b'{"error":"internal server error"}'
    return 200, body


CASES: dict[str, tuple[Answer, str]] = {
    "events nested 100,000 deep": (nested, "nested too deeply"),
    "hello nested 100,000 deep": (nested_hello, "nested too deeply"),
    "a lone surrogate in an event": (surrogate, "lone surrogate (\\ud800)"),
    "a hostile error answer": (surrogate_error, "the peer answered 500"),
}


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[tuple[Node, Node, Node, str]]:
    """(puller, good, bad, bad's secret): the puller pulls from a good and a bad peer;
    each of them has teams the puller has not seen."""
    nodes = [make_node("sqlite", name, tmp_path) for name in ("puller", "good", "bad")]
    puller, good, bad = nodes
    link(puller, good)
    secret = link(puller, bad)
    for node in (good, bad):
        for slug in ("red", "blue", "green"):
            node.run(CreateRecord("team", {"slug": f"{node.name}-{slug}",
                                           "name": slug.title()}))
    yield puller, good, bad, secret
    for node in nodes:
        dispose(node)


def route(puller: Node, good: Node, bad: Node, secret: str, answer: Answer) -> None:
    by_host = {"good.test": wsgi_transport(good.app),
               "bad.test": wsgi_transport(proxy(bad.app, secret, answer))}

    def transport(url: str, headers: dict[str, str], max_bytes: int, timeout: float) -> Any:
        return by_host[url.split("://", 1)[1].split("/", 1)[0]](url, headers, max_bytes, timeout)

    puller.app.config["HINDSIGHT_SYNC_TRANSPORT"] = transport


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_answer_is_a_clear_refusal_and_nothing_is_applied(
        trio: tuple[Node, Node, Node, str], case: str) -> None:
    puller, good, bad, secret = trio
    answer, reason = CASES[case]
    route(puller, good, bad, secret, answer)
    before = puller.event_count()
    result = puller.sync("bad")
    assert not result.ok and reason in result.error, result.error
    assert reason in (puller.peer("bad").last_error or "")
    assert puller.event_count() == before and puller.cursor("bad") == 0
    assert puller.sync("good").ok  # the other peer is not affected
    route(puller, good, bad, secret, lambda path, n, body: (200, body))
    assert puller.sync("bad").ok and puller.cursor("bad") == 3  # honest again: all arrives
    assert puller.peer("bad").last_error is None


def test_a_500_in_the_middle_of_a_catch_up_keeps_what_was_applied(
        trio: tuple[Node, Node, Node, str]) -> None:
    puller, good, bad, secret = trio
    route(puller, good, bad, secret, fails_second_batch)
    puller.app.config["HINDSIGHT_SYNC_BATCH"] = 2
    result = puller.sync("bad")
    assert not result.ok and "the peer answered 500: internal server error" in result.error
    assert puller.cursor("bad") == 2  # the first batch stays applied, the cursor with it
    assert "500" in (puller.peer("bad").last_error or "")


def cli(node: Node, *args: str) -> Any:
    return node.app.test_cli_runner().invoke(args=list(args))


@pytest.mark.parametrize("case", sorted(CASES))
def test_sync_loop_keeps_running_and_keeps_pulling_the_other_peers(
        trio: tuple[Node, Node, Node, str], monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    import webapp.sync.cli as sync_cli

    puller, good, bad, secret = trio
    answer, reason = CASES[case]
    route(puller, good, bad, secret, answer)
    rounds: list[float] = []

    def sleep(seconds: float) -> None:  # between rounds the good peer writes; then Ctrl-C
        rounds.append(seconds)
        if len(rounds) == 3:
            raise KeyboardInterrupt
        good.run(CreateRecord("team", {"slug": f"late-{len(rounds)}", "name": "Late"}))

    monkeypatch.setattr(sync_cli.time, "sleep", sleep)
    result = cli(puller, "sync", "--loop", "--interval", "1")
    assert result.exit_code == 0, result.output
    assert len(rounds) == 3  # three rounds: none of them died
    assert result.stderr.count("bad: refused") == 3 and reason in result.stderr
    assert "good: 3 applied" in result.stdout and result.stdout.count("good: 1 applied") == 2
    assert puller.cursor("good") == 5 and puller.cursor("bad") == 0


def test_an_error_nobody_foresaw_is_recorded_as_the_peers_last_error(
        trio: tuple[Node, Node, Node, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever breaks while reading one peer's answer (here: the parser itself)."""
    puller, good, bad, secret = trio
    route(puller, good, bad, secret, lambda path, n, body: (200, body))
    real, bad_id = protocol.parse_batch, bad.node_id

    def broken(doc: dict[str, Any], after: int, limit: int) -> protocol.Batch:
        if doc.get("node_id") == bad_id:
            raise KeyError("a bug")
        return real(doc, after, limit)

    monkeypatch.setattr(protocol, "parse_batch", broken)
    result = cli(puller, "sync")
    assert result.exit_code == 1
    assert "bad: refused -- unexpected error: KeyError" in result.stderr
    assert "good: 3 applied" in result.stdout
    assert "KeyError" in (puller.peer("bad").last_error or "")
