"""What every page's frame shows an admin (webapp/chrome.py), read along with the
signed-in reader: the nav's open-conflicts count and the failed-verification warning
follow the database on the very next page, and a page that a write renders shows them
after its write."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.support.sync_nodes import Node, collide_team, paired_with
from tests.web.helpers import csrf_from
from tests.web.test_nodes import fail_verification, verify_cli
from webapp.audit.replication import list_conflicts
from webapp.audit.tables import nodes
from webapp.domain import teams
from webapp.extensions import db

BADGE = re.compile(r'data-testid="nav-conflicts" aria-label="(\d+\+?) open"')


def badge(client: FlaskClient, url: str = "/timeline") -> str | None:
    found = BADGE.search(client.get(url).get_data(as_text=True))
    return found.group(1) if found else None


@pytest.fixture
def linked(app: Flask, tmp_path: Path, accounts: dict[str, object]) -> Iterator[tuple[Node, Node]]:
    with paired_with(app, tmp_path) as (alpha, beta):
        assert beta.sync("alpha").ok
        yield alpha, beta


def _open_conflict(alpha: Node) -> str:
    with alpha.app.app_context():
        found = list_conflicts(db.session, "open", entity="team")
    assert len(found) == 1
    return found[0].conflict_id


def test_the_badge_follows_a_conflict_opening_and_resolving_on_the_next_page(
        client: FlaskClient, login: Callable[..., object], linked: tuple[Node, Node]) -> None:
    alpha, beta = linked
    login("admin")
    assert badge(client) is None
    collide_team(alpha, beta)
    assert badge(client) == "1" and badge(client, "/e/team/") == "1"
    conflict_id = _open_conflict(alpha)
    html = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    version = re.search(r'name="expected_version"[^>]*value="(\d+)"', html)
    assert version
    resolved = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": csrf_from(html), "mode": "side", "side": "0",
        "expected_version": version.group(1)}, follow_redirects=True)
    assert "Conflict resolved" in resolved.get_data(as_text=True)
    assert not BADGE.search(resolved.get_data(as_text=True))  # the page right after
    assert badge(client) is None


def test_a_page_rendered_by_a_post_shows_the_count_too(
        client: FlaskClient, login: Callable[..., object], linked: tuple[Node, Node]) -> None:
    # A POST reads the chrome when its page asks (after its writes), not with the reader.
    alpha, beta = linked
    collide_team(alpha, beta)
    conflict_id = _open_conflict(alpha)
    login("admin")
    html = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    version = re.search(r'name="expected_version"[^>]*value="(\d+)"', html)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html)
    assert version and key
    refused = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": csrf_from(html), "mode": "edit", "expected_version": version.group(1),
        "idempotency_key": key.group(1), "slug": "ops", "name": ""})
    assert refused.status_code == 422
    found = BADGE.search(refused.get_data(as_text=True))
    assert found and found.group(1) == "1"


def test_the_warning_follows_verification_runs_on_the_next_page(
        app: Flask, client: FlaskClient, login: Callable[..., object],
        team: dict[str, object]) -> None:
    login("admin")
    assert 'data-testid="verify-failed"' not in client.get("/timeline").get_data(as_text=True)
    fail_verification(app)
    page = client.get("/timeline").get_data(as_text=True)
    assert 'data-testid="verify-failed"' in page and "1 break(s) found" in page
    with app.app_context():  # put the name back as its events say, and verify again
        db.session.execute(teams.table.update().values(name=team["name"]))
        db.session.commit()
    assert verify_cli(app).exit_code == 0
    assert 'data-testid="verify-failed"' not in client.get("/timeline").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "<strong>passed</strong>" in home and 'data-testid="verify-failed"' not in home


def test_node_names_follow_a_rename_and_a_new_peer_on_the_next_page(
        app: Flask, client: FlaskClient, login: Callable[..., object],
        team: dict[str, object]) -> None:
    # The names ride on the reader's statement (lookups.NODE_NAMES_COLUMNS): read afresh
    # for every page, and read apart when a peer's name cannot be carried that way.
    login("admin")
    assert app.test_cli_runner().invoke(args=["node", "rename", "Lisbon"]).exit_code == 0
    page = client.get("/timeline").get_data(as_text=True)
    assert ">Lisbon<" in page and f"/e/team/{team['id']}" in page
    assert ">Lisbon<" in client.get(f"/e/team/{team['id']}").get_data(as_text=True)
    _add_node(app, "01J00000000000000000000001", "Porto")
    assert ">Porto<" in client.get("/timeline").get_data(as_text=True)
    _add_node(app, "01J00000000000000000000002", "odd\x1d\x1e01J00000000000000000000003Faro")
    page = client.get("/timeline").get_data(as_text=True)
    assert ">Porto<" in page and ">Lisbon<" in page and 'value="01J00000000000000000000002"' in page
    assert 'value="01J00000000000000000000003"' not in page  # not read as a node of its own


def _add_node(app: Flask, node_id: str, name: str) -> None:
    with app.app_context():
        db.session.execute(sa.insert(nodes).values(node_id=node_id, name=name, is_self=False,
                                                   first_seen_hlc=1))
        db.session.commit()
