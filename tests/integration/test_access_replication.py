"""Access events are ordinary audited events underneath: signed in their origin's chain,
pulled by a peer, verified there against the origin's key, and counted by the peer's
`audit verify` like every other (issue 13), on every database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support.sync_nodes import dispose, link, make_node, route_in_process
from webapp.audit.commands import CreateRecord
from webapp.audit.tables import change_events

pytestmark = pytest.mark.backends


@pytest.fixture
def pair(backend, tmp_path):
    alpha = make_node("sqlite", "alpha", tmp_path, WTF_CSRF_ENABLED=False)
    beta = make_node(backend, "beta", tmp_path)
    route_in_process(alpha, beta)
    link(alpha, beta)
    yield alpha, beta
    dispose(alpha)
    dispose(beta)


def test_a_replicated_access_event_verifies_on_another_node(pair):
    alpha, beta = pair
    alpha.run(CreateRecord("user", {"username": "ann", "email": "ann@example.org",
                                    "role": "viewer", "active": True,
                                    "password": "ann's long password"}))
    client = alpha.app.test_client()
    client.post("/login", data={"username": "ann", "password": "wrong password!"})
    assert client.post("/login", data={"username": "ann", "password": "ann's long password"}
                       ).status_code == 302
    assert beta.sync("alpha").ok
    rows = beta.query(sa.select(change_events).where(change_events.c.entity == "access")
                      .order_by(change_events.c.seq))
    assert [r.origin_node_id for r in rows] == [alpha.node_id] * 2
    assert [r.post_state.count('"kind"') for r in rows] == [1, 1]
    assert rows[-1].signature is not None  # signed by alpha, kept by beta
    verified = beta.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # alpha's three events (the account, the failed login, the login), each covered by
    # alpha's signature as beta's pinned key checks it
    assert "3 events of 1 origin(s) (3 covered by signatures" in verified.output
