"""Downloads from the timeline page: the page's filters, every matching event, CSV or
JSON Lines, for viewers; bad filters get 400; formulas and secrets never get out."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from functools import partial
from html import unescape

import pytest
import sqlalchemy as sa

from tests.web.timeline_helpers import all_events, store_peer_event
from webapp.audit.commands import CreateRecord, UpdateRecord
from webapp.audit.tables import change_events
from webapp.export import routes as export_routes
from webapp.export import stream
from webapp.extensions import db


@pytest.fixture
def world(app, run, accounts):
    editor, admin = accounts["editor"].id, accounts["admin"].id
    team = run(CreateRecord("team", {"slug": "red", "name": "=HYPERLINK(\"http://x.test\")"}),
               user_id=editor).record
    run(UpdateRecord("team", team["id"], 1, {"name": "Red Team"}), user_id=admin)
    run(CreateRecord("setting", {"key": "mail.host", "value": "@smtp"}), user_id=editor)
    peer = store_peer_event(app, datetime(2020, 1, 1, 12, 0))
    return {"team": team["id"], "peer": peer}


def _csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _jsonl(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_the_timeline_links_to_downloads_with_its_filters(client, login, world):
    login("viewer")
    html = client.get("/timeline?entity=team&op=&user=admin-user").get_data(as_text=True)
    links = [unescape(part.split('"')[0]) for part in html.split('href="')[1:]
             if part.startswith("/timeline/export.")]
    assert sorted(links) == ["/timeline/export.csv?entity=team&user=admin-user",
                             "/timeline/export.jsonl?entity=team&user=admin-user"]


def test_csv_download_holds_every_matching_event_newest_first(app, client, login, world):
    login("viewer")
    response = client.get("/timeline/export.csv?entity=team")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    rows = _csv(response)
    assert [r["event_id"] for r in rows] == [e.event_id for e in all_events(app, entity="team")]
    assert [r["origin_node"] for r in rows][-1] == "peer-eu"


def test_jsonl_download_follows_user_and_time_filters(app, client, login, accounts, world):
    login("viewer")
    docs = _jsonl(client.get("/timeline/export.jsonl?user=editor-user&from=2021-01-01"))
    editor = accounts["editor"].id
    assert [d["event_id"] for d in docs] == [e.event_id for e in all_events(app)
                                             if e.user_id == editor]
    assert {d["user"] for d in docs} == {"editor-user"}
    peer = _jsonl(client.get("/timeline/export.jsonl?node=peer-eu&to=2020-12-31"))
    assert [d["event_id"] for d in peer] == [world["peer"].event_id]


def test_formula_cells_are_defused_in_csv(client, login, world):
    login("viewer")
    rows = _csv(client.get("/timeline/export.csv"))
    team = next(r for r in rows if r["record_id"] == world["team"] and r["op"] == "created")
    assert json.loads(team["post_state"])["name"] == '=HYPERLINK("http://x.test")'
    cells = [c for r in rows for c in r.values()]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


def test_password_hashes_never_leave_in_an_export(client, login, world):
    login("viewer")
    for fmt in ("csv", "jsonl"):
        body = client.get(f"/timeline/export.{fmt}?entity=user").get_data(as_text=True)
        assert "(hidden)" in body and "scrypt" not in body


@pytest.mark.parametrize("query, reason", [
    ("entity=nope", "unknown entity"), ("from=soon", "is not a date or time"),
    ("record=xyz", "a record filter is a record id"),
    ("from=2024-02-01&to=2024-01-01", "ends before it starts"), ("node=nowhere", "unknown node")])
def test_a_bad_filter_gets_400_with_the_reason(client, login, world, query, reason):
    login("viewer")
    response = client.get(f"/timeline/export.csv?{query}")
    assert response.status_code == 400
    assert "text/csv" not in response.content_type
    assert reason in unescape(response.get_data(as_text=True))


def test_downloads_need_a_login_and_a_known_format(client, login, world):
    assert client.get("/timeline/export.csv").status_code == 302
    login("viewer")
    assert client.get("/timeline/export.xlsx").status_code == 404


def test_a_download_reads_one_snapshot_of_the_log_however_long_it_streams(
        app, client, login, world, monkeypatch):
    """Events removed while a download streams (by a compaction, say) are still in it:
    every batch reads the log as it was when the stream began, not the request's session,
    which is closed before the first chunk is read."""
    monkeypatch.setattr(export_routes, "chunks", partial(stream.chunks, batch=1))
    expected = [e.event_id for e in all_events(app)]
    login("viewer")
    response = client.get("/timeline/export.jsonl", buffered=False)
    parts = iter(response.response)
    first = next(parts)  # one event: the stream has begun
    with app.app_context():
        db.session.execute(sa.delete(change_events).where(
            change_events.c.event_id != json.loads(first)["event_id"]))
        db.session.commit()
    lines = (first + b"".join(parts)).decode().splitlines()
    response.close()
    assert [json.loads(line)["event_id"] for line in lines] == expected
    assert len(all_events(app)) == 1  # the others were removed meanwhile
