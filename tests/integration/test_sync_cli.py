"""`flask node`, `flask peers` and `flask sync`: clear output, non-zero exits on bad
input or a refused sync, secrets never taken from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.support.sync_nodes import (
    Node,
    dispose,
    link,
    make_node,
    remove_peer,
    route_in_process,
)
from tests.web.helpers import sqlite_app
from webapp.audit.commands import CreateRecord
from webapp.audit.node import load_node
from webapp.extensions import db


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    a, b = make_node("sqlite", "alpha", tmp_path), make_node("sqlite", "beta", tmp_path)
    route_in_process(a, b)
    yield a, b
    dispose(a)
    dispose(b)


def cli(node: Node, *args: str, env: dict[str, str] | None = None,
        input: str | None = None) -> Result:
    return node.app.test_cli_runner().invoke(args=list(args), env=env, input=input)


def test_node_init_prints_the_same_id_every_time(tmp_path: Path) -> None:
    with sqlite_app(tmp_path / "fresh.sqlite3") as app:  # a database with no node id yet
        runner = app.test_cli_runner()
        for bad in ("   ", "n" * 101):
            refused = runner.invoke(args=["node", "init", "--name", bad])
            assert refused.exit_code == 2 and "1 to 100 characters" in refused.stderr
        with app.app_context():
            assert load_node(db.session) is None  # a refused init writes nothing
        first = runner.invoke(args=["node", "init", "--name", "gamma"])
        assert first.exit_code == 0 and len(first.stdout.strip()) == 26
        again = runner.invoke(args=["node", "init", "--name", "other"])
        assert again.stdout.strip() == first.stdout.strip() and "unchanged" in again.stderr
        shown = runner.invoke(args=["node", "show"])
        assert first.stdout.strip() in shown.stdout and "gamma" in shown.stdout


def test_peers_add_takes_the_secret_from_env_or_file_never_argv(nodes: tuple[Node, Node],
                                                                tmp_path: Path) -> None:
    a, _ = nodes
    secret = cli(a, "peers", "secret").stdout.strip()
    assert len(secret) >= 32
    added = cli(a, "peers", "add", "one", "https://one.test", "--secret-env", "S",
                env={"S": secret})
    assert added.exit_code == 0, added.output
    path = tmp_path / "secret"
    path.write_text(secret + "2\n")
    from_file = cli(a, "peers", "add", "two", "https://two.test:8000/", "--secret-file", str(path))
    assert from_file.exit_code == 0, from_file.output
    from_stdin = cli(a, "peers", "add", "three", "--secret-file", "-", input="s" * 40)
    assert from_stdin.exit_code == 0 and "pull-only" in from_stdin.stdout
    listed = cli(a, "peers", "list").stdout
    assert "one\thttps://one.test" in listed and "two\thttps://two.test:8000" in listed
    assert secret not in listed


LINK_SECRET = "the-secret-alpha-and-beta-share-" + "k" * 10
ADD = ["peers", "add", "x", "https://x.test", "--secret-env", "S"]


@pytest.mark.parametrize("args, env, message", [
    (["peers", "add", "x", "https://x.test"], {}, "exactly one of"),
    (["peers", "add", "x", "https://x.test", "--secret-env", "S", "--secret-file", "-"],
     {"S": "s" * 40}, "exactly one of"),
    (["peers", "add", "x", "https://x.test", "--secret-env", "NOPE"], {}, "not set"),
    (["peers", "add", "x", "https://x.test", "--secret-file", "/nonexistent/secret"], {},
     "No such file"),
    (ADD, {"S": "short"}, "32 to 200"),
    (ADD, {"S": "s" * 201}, "32 to 200"),
    (ADD, {"S": "s" * 20 + " " + "s" * 20}, "without spaces"),
    (ADD, {"S": "s" * 20 + "\x07" + "s" * 20}, "without spaces"),
    (ADD, {"S": LINK_SECRET}, "already uses this secret"),
    (["peers", "add", "x", "ftp://x.test", "--secret-env", "S"], {"S": "s" * 40}, "http(s)"),
    (["peers", "add", "x", "http://", "--secret-env", "S"], {"S": "s" * 40}, "http(s)"),
    (["peers", "add", "x", "http://u:p@x.test", "--secret-env", "S"], {"S": "s" * 40},
     "credentials"),
    (["peers", "add", "x", "https://x.test/?a=1", "--secret-env", "S"], {"S": "s" * 40},
     "query"),
    (["peers", "add", "x", f"https://x.test/{'p' * 500}", "--secret-env", "S"], {"S": "s" * 40},
     "longer than 500"),
    (["peers", "add", "Bad Name", "https://x.test", "--secret-env", "S"], {"S": "s" * 40},
     "peer name"),
    (["peers", "add", "x" * 101, "https://x.test", "--secret-env", "S"], {"S": "s" * 40},
     "peer name"),
    (["peers", "add", "beta", "https://x.test", "--secret-env", "S"], {"S": "s" * 40},
     "already exists"),
    (["peers", "remove", "nobody"], {}, "no peer named"),
    (["sync", "--peer", "nobody"], {}, "no peer named"),
    (["sync", "--batch", "0"], {}, "not in the range"),
    (["sync", "--batch", "2001"], {}, "not in the range"),
    (["sync", "--batch", "many"], {}, "not a valid integer"),
    (["sync", "--loop", "--interval", "0.1"], {}, "not in the range"),
    (["node", "init", "--name", "   "], {}, "1 to 100 characters"),
    (["node", "init"], {}, "Missing option '--name'"),
])
def test_bad_cli_input_exits_non_zero_with_a_reason(nodes: tuple[Node, Node], args: list[str],
                                                   env: dict[str, str], message: str) -> None:
    a, b = nodes
    link(a, b, LINK_SECRET)
    before = cli(a, "peers", "list").stdout
    result = cli(a, *args, env=env)
    assert result.exit_code != 0
    assert message in result.stderr + result.stdout
    assert cli(a, "peers", "list").stdout == before  # nothing written


def test_a_pull_only_peer_is_served_not_pulled(nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    added = cli(a, "peers", "add", "reader", "--secret-env", "S", env={"S": "r" * 40})
    assert added.exit_code == 0 and "pull-only" in added.stdout
    every = cli(a, "sync")
    assert every.exit_code == 0 and "no peers to pull from" in every.stdout
    named = cli(a, "sync", "--peer", "reader")
    assert named.exit_code == 1
    assert "reader: refused" in named.stderr and "has no URL" in named.stderr
    removed = cli(a, "peers", "remove", "reader")
    assert removed.exit_code == 0 and "no peers" in cli(a, "peers", "list").stdout


def test_sync_catches_up_with_a_progress_bar(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    link(a, b)
    for i in range(12):
        b.run(CreateRecord("setting", {"key": f"k.n{i}", "value": str(i)}))
    result = cli(a, "sync", "--batch", "5")
    assert result.exit_code == 0, result.output
    assert "catching up from beta" in result.stdout
    assert "beta: 12 applied" in result.stdout and "caught up" in result.stdout
    assert a.cursor("beta") == 12
    again = cli(a, "sync", "--peer", "beta")
    assert again.exit_code == 0 and "beta: 0 applied" in again.stdout


def test_a_refused_sync_exits_non_zero_and_names_the_peer(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    link(a, b)
    remove_peer(b, "alpha")  # beta no longer knows alpha's secret
    result = cli(a, "sync")
    assert result.exit_code == 1
    assert "beta: refused" in result.stderr and "authentication failed" in result.stderr
    assert "sync refused for beta" in result.stderr


def test_sync_loop_pulls_every_interval_and_stays_quiet_when_idle(
        nodes: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    import webapp.sync.cli as sync_cli

    a, b = nodes
    link(a, b)
    rounds = []

    def sleep(seconds: float) -> None:  # the second pause stands for Ctrl-C
        rounds.append(seconds)
        if len(rounds) == 1:
            b.run(CreateRecord("setting", {"key": "late.one", "value": "1"}))
        else:
            raise KeyboardInterrupt

    b.run(CreateRecord("setting", {"key": "early.one", "value": "1"}))
    monkeypatch.setattr(sync_cli.time, "sleep", sleep)
    result = cli(a, "sync", "--loop", "--interval", "2")
    assert result.exit_code == 0, result.output
    assert rounds == [2.0, 2.0] and a.cursor("beta") == 2
    assert result.stdout.count("beta: 1 applied") == 2
    monkeypatch.setattr(sync_cli.time, "sleep", lambda s: (_ for _ in ()).throw(KeyboardInterrupt))
    quiet = cli(a, "sync", "--loop")
    assert quiet.exit_code == 0 and quiet.stdout == ""  # nothing new: nothing printed


def test_an_unreachable_peer_is_reported_as_unreachable_not_refused(tmp_path: Path) -> None:
    import socket

    a = make_node("sqlite", "gamma", tmp_path)  # not routed in process: real sockets
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "secret"
    path.write_text(cli(a, "peers", "secret").stdout.strip())
    added = cli(a, "peers", "add", "gone", f"http://127.0.0.1:{port}", "--secret-file", str(path))
    assert added.exit_code == 0, added.output
    result = cli(a, "sync", "--peer", "gone")
    assert result.exit_code == 1
    assert "gone: unreachable" in result.stderr + result.stdout
    assert "could not reach gone" in result.stderr and "sync refused" not in result.stderr
    dispose(a)


@pytest.mark.parametrize("url, extra, ok", [
    ("http://peer.example.org", [], False),  # clear text over a network: refused
    ("http://10.0.0.7:5000", [], False),
    ("http://peer.example.org", ["--insecure"], True),  # unless the admin says so
    ("https://peer.example.org", [], True),
    ("http://127.0.0.1:5001", [], True),  # loopback: never leaves the machine
    ("http://localhost:5002", [], True),
    ("http://[::1]:5003", [], True),
])
def test_a_peer_url_must_be_https_unless_loopback_or_insecure(
        nodes: tuple[Node, Node], url: str, extra: list[str], ok: bool) -> None:
    a, _ = nodes
    done = cli(a, "peers", "add", "p", url, "--secret-env", "S", *extra,
               env={"S": "s" * 40})
    assert (done.exit_code == 0) is ok, done.output
    if not ok:
        assert "must be https://" in done.output and "--insecure" in done.output
