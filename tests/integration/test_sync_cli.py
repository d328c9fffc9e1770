"""`flask node`, `flask peers` and `flask sync`: clear output, non-zero exits on bad
input or a refused sync, secrets never taken from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from webapp.audit.commands import CreateRecord


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    a, b = make_node("sqlite", "alpha", tmp_path), make_node("sqlite", "beta", tmp_path)
    route_in_process(a, b)
    yield a, b
    dispose(a)
    dispose(b)


def cli(node: Node, *args: str, env: dict[str, str] | None = None, input: str | None = None):
    return node.app.test_cli_runner().invoke(args=list(args), env=env,
                                                              input=input)


def test_node_init_prints_the_same_id_every_time(tmp_path: Path) -> None:
    from tests.support.databases import database_url
    from webapp import create_app
    from webapp.audit.tables import metadata
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url("sqlite", "fresh", tmp_path),
                      "TESTING": True, "SECRET_KEY": "k"})
    with app.app_context():
        metadata.create_all(db.engine)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["node", "init", "--name", "gamma"])
    assert first.exit_code == 0 and len(first.stdout.strip()) == 26
    again = runner.invoke(args=["node", "init", "--name", "other"])
    assert again.stdout.strip() == first.stdout.strip() and "unchanged" in again.stderr
    shown = runner.invoke(args=["node", "show"])
    assert first.stdout.strip() in shown.stdout and "gamma" in shown.stdout
    with app.app_context():
        db.engine.dispose()


def test_peers_add_takes_the_secret_from_env_or_file_never_argv(nodes: tuple[Node, Node],
                                                                tmp_path: Path) -> None:
    a, _ = nodes
    secret = cli(a, "peers", "secret").stdout.strip()
    assert len(secret) >= 32
    added = cli(a, "peers", "add", "one", "http://one.test", "--secret-env", "S",
                env={"S": secret})
    assert added.exit_code == 0, added.output
    path = tmp_path / "secret"
    path.write_text(secret + "2\n")
    from_file = cli(a, "peers", "add", "two", "http://two.test:8000/", "--secret-file", str(path))
    assert from_file.exit_code == 0, from_file.output
    from_stdin = cli(a, "peers", "add", "three", "--secret-file", "-", input="s" * 40)
    assert from_stdin.exit_code == 0 and "pull-only" in from_stdin.stdout
    listed = cli(a, "peers", "list").stdout
    assert "one\thttp://one.test" in listed and "two\thttp://two.test:8000" in listed
    assert secret not in listed


@pytest.mark.parametrize("args, env, message", [
    (["peers", "add", "x", "http://x.test"], {}, "exactly one of"),
    (["peers", "add", "x", "http://x.test", "--secret-env", "NOPE"], {}, "not set"),
    (["peers", "add", "x", "http://x.test", "--secret-env", "S"], {"S": "short"}, "32 to 200"),
    (["peers", "add", "x", "ftp://x.test", "--secret-env", "S"], {"S": "s" * 40}, "http(s)"),
    (["peers", "add", "Bad Name", "http://x.test", "--secret-env", "S"], {"S": "s" * 40},
     "peer name"),
    (["peers", "add", "beta", "http://x.test", "--secret-env", "S"], {"S": "s" * 40},
     "already exists"),
    (["peers", "remove", "nobody"], {}, "no peer named"),
    (["sync", "--peer", "nobody"], {}, "no peer named"),
    (["sync", "--batch", "0"], {}, "0"),
])
def test_bad_cli_input_exits_non_zero_with_a_reason(nodes: tuple[Node, Node], args: list[str],
                                                   env: dict[str, str], message: str) -> None:
    a, b = nodes
    link(a, b)
    before = cli(a, "peers", "list").stdout
    result = cli(a, *args, env=env)
    assert result.exit_code != 0
    assert message in result.stderr + result.stdout
    assert cli(a, "peers", "list").stdout == before  # nothing written


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
    from webapp.extensions import db
    from webapp.sync import peers as store

    with b.app.app_context():  # beta no longer knows alpha's secret
        store.remove_peer(db.session, "alpha")
    result = cli(a, "sync")
    assert result.exit_code == 1
    assert "beta: refused" in result.stderr and "unknown key id" in result.stderr
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
