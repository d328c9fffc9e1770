"""The nodes page: admins see this node, each peer's cursor, lag, last success and last
error, and can run one bounded sync per peer (CSRF-protected)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.hostile import nested, proxy
from tests.support.sync_nodes import Node, add_peer, paired_with, remove_peer, wsgi_transport
from tests.web.helpers import csrf_from
from webapp.audit.commands import CreateRecord
from webapp.domain import registry
from webapp.extensions import db
from webapp.sync.signing import new_secret

teams = registry.get("team").table


@pytest.fixture
def pair(app: Flask, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    with paired_with(app, tmp_path) as nodes:
        yield nodes


@pytest.mark.parametrize("role, status", [("viewer", 403), ("editor", 403)])
def test_only_admins_see_the_nodes_page(client: FlaskClient, login: Callable[..., object],
                                        role: str, status: int) -> None:
    login(role)
    assert client.get("/nodes").status_code == status


def test_anonymous_users_are_sent_to_log_in(client: FlaskClient) -> None:
    response = client.get("/nodes")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_this_node_and_its_peers(client: FlaskClient, login: Callable[..., object],
                                                pair: tuple[Node, Node]) -> None:
    alpha, beta = pair
    login("admin")
    page = client.get("/nodes").get_data(as_text=True)
    assert alpha.node_id in page
    assert "http://beta.test" in page and "not contacted yet" in page


def test_sync_now_pulls_and_reports_cursor_and_lag(client: FlaskClient,
                                                   login: Callable[..., object],
                                                   pair: tuple[Node, Node]) -> None:
    alpha, beta = pair
    for slug in ("red", "blue"):
        beta.run(CreateRecord("team", {"slug": slug, "name": slug}))
    login("admin")
    token = csrf_from(client.get("/nodes").get_data(as_text=True))
    before = alpha.event_count()
    response = client.post("/nodes/beta/sync", data={"csrf_token": token}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "beta: 2 applied" in page and "caught up" in page
    assert alpha.event_count() == before + 2
    assert beta.node_id in page  # pinned on first hello
    row = page[page.index('id="peer-beta"'):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">2</td>' in row and '<td class="num">0</td>' in row  # cursor, lag
    assert "never" not in row


def test_a_refused_sync_shows_its_error_on_the_page(client: FlaskClient,
                                                    login: Callable[..., object],
                                                    pair: tuple[Node, Node]) -> None:
    alpha, beta = pair
    remove_peer(beta, "alpha")  # beta no longer accepts alpha's signature
    login("admin")
    token = csrf_from(client.get("/nodes").get_data(as_text=True))
    before = alpha.event_count()
    page = client.post("/nodes/beta/sync", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "beta: refused" in page and "authentication failed" in page
    later = client.get("/nodes").get_data(as_text=True)
    assert "peer-failing" in later and "authentication failed" in later
    assert alpha.event_count() == before


def test_sync_now_needs_csrf_and_a_known_peer(client: FlaskClient, login: Callable[..., object],
                                              pair: tuple[Node, Node]) -> None:
    login("admin")
    assert client.post("/nodes/beta/sync").status_code == 400
    token = csrf_from(client.get("/nodes").get_data(as_text=True))
    assert client.post("/nodes/nobody/sync", data={"csrf_token": token}).status_code == 404
    hostile = client.post("/nodes/%3Cscript%3Ex/sync", data={"csrf_token": token})
    assert hostile.status_code == 404 and "<script>" not in hostile.get_data(as_text=True)
    assert client.get("/nodes/beta/sync").status_code == 405  # a sync is never a GET


def test_sync_now_on_a_pull_only_peer_says_so_and_pulls_nothing(
        client: FlaskClient, login: Callable[..., object], pair: tuple[Node, Node]) -> None:
    alpha, _ = pair
    add_peer(alpha, "reader", None, new_secret())
    login("admin")
    page = client.get("/nodes").get_data(as_text=True)
    row = page[page.index('id="peer-reader"'):]
    assert "pulls from us only" in row[:row.index("</tr>")]
    assert "/nodes/reader/sync" not in page  # no button for it
    before = alpha.event_count()
    done = client.post("/nodes/reader/sync", data={"csrf_token": csrf_from(page)},
                       follow_redirects=True).get_data(as_text=True)
    assert "reader: refused" in done and "has no URL" in done
    assert alpha.event_count() == before


def test_sync_now_is_admin_only(client: FlaskClient, login: Callable[..., object],
                                pair: tuple[Node, Node]) -> None:
    login("editor")
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/nodes/beta/sync", data={"csrf_token": token}).status_code == 403


def test_sync_now_with_a_hostile_peer_reports_the_refusal_and_never_a_500(
        client: FlaskClient, login: Callable[..., object], pair: tuple[Node, Node]) -> None:
    alpha, beta = pair
    beta.run(CreateRecord("team", {"slug": "red", "name": "Red"}))
    alpha.app.config["HINDSIGHT_SYNC_TRANSPORT"] = wsgi_transport(
        proxy(beta.app, alpha.peer("beta").secret, nested))
    login("admin")
    token = csrf_from(client.get("/nodes").get_data(as_text=True))
    before = alpha.event_count()
    response = client.post("/nodes/beta/sync", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get("/nodes").get_data(as_text=True)
    assert "beta: refused" in page and "nested too deeply" in page and "peer-failing" in page
    assert alpha.event_count() == before


def verify_cli(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify", "--quiet"])


def test_the_nodes_page_shows_when_verification_last_ran_and_its_result(
        app: Flask, client: FlaskClient, login: Callable[..., object]) -> None:
    login("admin")
    assert "Never verified" in client.get("/nodes").get_data(as_text=True)
    assert verify_cli(app).exit_code == 0
    page = client.get("/nodes").get_data(as_text=True)
    assert "Last run" in page and "passed" in page and "no break found" in page
    assert 'data-testid="verify-failed"' not in page


def fail_verification(app: Flask) -> None:
    """A team renamed behind the app's back, and a verification that finds it."""
    with app.app_context():
        db.session.execute(teams.update().values(name="Changed behind the app's back"))
        db.session.commit()
    assert verify_cli(app).exit_code == 1


def test_a_failed_verification_is_on_every_page_for_admins(
        app: Flask, client: FlaskClient, login: Callable[..., object],
        team: dict[str, Any]) -> None:
    fail_verification(app)
    login("admin")
    for url in ("/", "/timeline", "/nodes"):
        page = client.get(url).get_data(as_text=True)
        assert 'data-testid="verify-failed"' in page and "verification failed" in page, url
    nodes = client.get("/nodes").get_data(as_text=True)
    assert "failed" in nodes and "RECORD: " in nodes and f"team {team['id']}" in nodes


def test_the_verification_warning_is_for_admins_only(
        app: Flask, client: FlaskClient, login: Callable[..., object],
        team: dict[str, Any]) -> None:
    fail_verification(app)
    login("editor")
    assert 'data-testid="verify-failed"' not in client.get("/").get_data(as_text=True)


def test_the_page_shows_node_keys_and_where_each_was_first_learnt(
        client: FlaskClient, login: Callable[..., object], pair: tuple[Node, Node]) -> None:
    from webapp.audit import keys
    from webapp.extensions import db
    alpha, beta = pair
    beta.run(CreateRecord("team", {"slug": "b", "name": "B"}))
    assert alpha.sync("beta").ok
    with beta.app.app_context():
        beta_key = keys.own_public_key(db.session)
    assert beta_key is not None
    login("admin")
    page = client.get("/nodes").get_data(as_text=True)
    row = page[page.index(f'id="key-{beta.node_id}"'):]
    row = row[:row.index("</tr>")]
    assert keys.fingerprint(beta_key) in row and "its own hello" in row
