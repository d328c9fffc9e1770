"""A node's name: not fixed by a look before `flask node init`, changed by `flask node
rename` with its id kept, and learnt by peers from the renamed node's own hello only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.sync_nodes import Node, dispose, link, make_node, route_in_process
from tests.web.helpers import sqlite_app
from webapp.audit.node import load_node
from webapp.audit.tables import nodes as nodes_table
from webapp.extensions import db


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[tuple[Node, Node, Node]]:
    made = tuple(make_node("sqlite", name, tmp_path) for name in ("alpha", "beta", "gamma"))
    route_in_process(*made)
    yield made  # type: ignore[misc]
    for node in made:
        dispose(node)


def _names(node: Node) -> dict[str, str]:
    rows = node.query(sa.select(nodes_table.c.node_id, nodes_table.c.name))
    return {row.node_id: row.name for row in rows}


def test_node_show_before_init_makes_no_node_so_init_names_it(tmp_path: Path) -> None:
    with sqlite_app(tmp_path / "fresh.sqlite3") as app:
        runner = app.test_cli_runner()
        shown = runner.invoke(args=["node", "show"])
        assert shown.exit_code == 1 and "flask node init" in shown.stderr
        with app.app_context():
            assert load_node(db.session) is None
        made = runner.invoke(args=["node", "init", "--name", "alpha"])
        assert made.exit_code == 0
        assert "name:     alpha" in runner.invoke(args=["node", "show"]).stdout


def test_rename_keeps_the_node_id_and_init_points_to_it(tmp_path: Path) -> None:
    with sqlite_app(tmp_path / "fresh.sqlite3") as app:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["node", "rename", "x"]).exit_code == 1  # no node yet
        node_id = runner.invoke(args=["node", "init", "--name", "local"]).stdout.strip()
        again = runner.invoke(args=["node", "init", "--name", "alpha"])
        assert "already initialised as 'local'" in again.stderr
        assert "flask node rename alpha" in again.stderr
        for bad in ("  ", "n" * 101):
            refused = runner.invoke(args=["node", "rename", bad])
            assert refused.exit_code == 2 and "1 to 100 characters" in refused.stderr
        # What a peer's word on a name loses (sync.protocol), a node cannot give itself.
        for bad in ("\u202eahpla", "al\u200bpha", "al\npha", "alpha\x1d\x1e", "al\ufe0fpha"):
            refused = runner.invoke(args=["node", "rename", bad])
            assert refused.exit_code == 2 and "text-direction characters" in refused.stderr
        assert "name:     local" in runner.invoke(args=["node", "show"]).stdout
        done = runner.invoke(args=["node", "rename", " alpha "])
        assert done.exit_code == 0 and "renamed 'local' to 'alpha'" in done.stdout
        shown = runner.invoke(args=["node", "show"]).stdout
        assert f"node id:  {node_id}" in shown and "name:     alpha" in shown


def test_peers_learn_a_rename_from_the_node_itself_not_from_a_relay(trio) -> None:
    alpha, beta, gamma = trio
    link(alpha, beta)
    link(beta, gamma)
    assert beta.sync("alpha").ok and gamma.sync("beta").ok
    assert _names(gamma)[alpha.node_id] == "alpha"  # learnt via beta

    alpha.app.test_cli_runner().invoke(args=["node", "rename", "alpha-prime"])
    assert beta.sync("alpha").ok
    assert _names(beta)[alpha.node_id] == "alpha-prime"  # alpha said so itself
    assert gamma.sync("beta").ok
    assert _names(gamma)[alpha.node_id] == "alpha"  # beta's word on alpha is not taken
    assert _names(alpha)[alpha.node_id] == "alpha-prime"
