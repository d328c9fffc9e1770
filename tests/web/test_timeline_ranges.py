"""Timeline filters and cursors beyond the clock's range get a 400 with a reason, on every
database (they were a 500 on SQLite and PostgreSQL, and a silent 200 on MariaDB)."""

from __future__ import annotations

import pytest

from tests.support.sync_nodes import dispose, make_node
from tests.web.timeline_helpers import event_ids
from webapp.audit.commands import CreateRecord
from webapp.audit.hlc import MAX_HLC, MAX_PHYSICAL, format_hlc, pack

pytestmark = pytest.mark.backends
ULID = "01J00000000000000000000000"


@pytest.fixture
def app(backend, tmp_path):
    """The web fixtures (client, accounts, login) on this backend's database."""
    node = make_node(backend, "ranges", tmp_path, keyed=False, WTF_CSRF_ENABLED=True)
    yield node.app
    dispose(node)


@pytest.fixture
def backend(request):
    return request.param


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)


@pytest.mark.parametrize("query, reason", [
    ("to=9999-12-31", "beyond the latest time"),
    ("from=7000-01-01", "beyond the latest time"),
    ("from=6429-10-17T02:45:56Z", "beyond the latest time"),
    (f"before={2**63}.{ULID}.{ULID}", "page cursor is not valid"),
    (f"before={2**64 - 1}.{ULID}.{ULID}", "page cursor is not valid"),
    (f"before={MAX_PHYSICAL + 1}ms%2B0000.{ULID}.{ULID}", "page cursor is not valid"),
    (f"before=１２ms%2B0000.{ULID}.{ULID}", "page cursor is not valid"),
])
def test_out_of_range_filters_and_cursors_get_400_with_a_reason(client, login, query, reason):
    login("viewer")
    response = client.get("/timeline?" + query)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_the_largest_accepted_values_run_on_every_database(client, login, run):
    made = run(CreateRecord("team", {"slug": "red", "name": "Red"})).event
    login("viewer")
    latest = format_hlc(pack(MAX_PHYSICAL, 0))[:10]  # the last day the clock can stamp
    for query in (f"from=1970-01-01&to={latest}", f"before={MAX_HLC}.{ULID}.{ULID}",
                  f"before={MAX_PHYSICAL}ms%2Bffff.{ULID}.{ULID}"):
        response = client.get("/timeline?" + query)
        assert response.status_code == 200, (query, response.get_data(as_text=True)[:300])
        assert made.event_id in event_ids(response.get_data(as_text=True)), query
