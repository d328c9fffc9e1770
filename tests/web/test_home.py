"""The home page at a glance: activity charts (server-rendered SVG with a text
alternative, bars linking to the timeline), and for admins the open conflicts, each
peer's lag and the verification status; the nav's open-conflicts count on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.sync_nodes import Node, collide_team, paired_with
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.extensions import db
from webapp.sync import peers


def test_activity_charts_count_the_events_with_a_text_alternative(client, login, run,
                                                                   accounts):
    for n in range(3):
        run(CreateRecord("team", {"slug": f"t{n}", "name": f"T{n}"}),
            user_id=accounts["editor"].id)
    login("viewer")
    html = client.get("/").get_data(as_text=True)
    total = 3 + 3 + 1  # three accounts, three teams and the login, all in the last 14 days
    assert f"<desc id=\"chart-activity-desc\">{total} events in all" in html
    assert f"Events, last 14 days, per day: {total} events." in html
    assert '<svg viewBox="0 0 720 160" role="img"' in html and "<script" not in html.split(
        "</head>")[1]
    rows = re.findall(r'<td class="num">(\d+)</td>', html)
    assert len(rows) == 14 and sum(map(int, rows)) == total  # the data table
    assert "By entity: Teams 3, Users 3, Access events 1." in html
    assert "By user: editor-user 3" in html  # a username, not the id
    assert "By node: local 7." in html
    assert "/timeline?from=" in html and "&amp;user=editor-user" in html
    hourly = client.get("/?span=48h").get_data(as_text=True)
    assert "Events, last 48 hours, per hour: 7 events." in hourly
    assert "last 14 days" in client.get("/?span=bogus").get_data(as_text=True)


def test_the_latest_changes_say_who_changed_what(client, login, run, accounts):
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"}),
               user_id=accounts["editor"].id).record
    run(UpdateRecord("team", team["id"], 1, {"name": "Red <Team>"}),
        user_id=accounts["editor"].id)
    login("viewer")
    html = client.get("/").get_data(as_text=True)
    latest = html[html.index('<h2 id="latest">'):]
    rows = re.findall(r'<li class="event event-dense[^"]*" id="event-(\w+)">(.*?)</li>', latest,
                      re.S)
    assert 2 <= len(rows) <= 10
    update = next(body for _, body in rows if "Name:" in body)
    assert '<span class="event-user">editor-user</span>' in update
    assert "Name: Red → Red &lt;Team&gt;" in update and "<Team>" not in latest
    assert f'href="/e/team/{team["id"]}"' in update


def test_new_events_are_counted_on_the_next_view(client, login, run):
    login("viewer")
    before = client.get("/").get_data(as_text=True)
    run(CreateRecord("team", {"slug": "new", "name": "New"}))
    after = client.get("/").get_data(as_text=True)
    count = re.compile(r"(\d+) events in all")
    assert int(count.search(after).group(1)) == int(count.search(before).group(1)) + 1


def _record_counts(html: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(
        r'<header><a href="/e/\w+/">(\w+)</a></header>\s*<p class="count">(\d+)</p>', html)}


def test_record_counts_follow_creates_and_deletes_on_the_next_view(client, login, run):
    # The counts are remembered per position of the log: every change moves it.
    login("viewer")
    before = _record_counts(client.get("/").get_data(as_text=True))
    made = run(CreateRecord("team", {"slug": "counted", "name": "Counted"}))
    assert made.record is not None
    after_create = _record_counts(client.get("/").get_data(as_text=True))
    assert after_create["Teams"] == before["Teams"] + 1
    assert {k: v for k, v in after_create.items() if k != "Teams"} == {
        k: v for k, v in before.items() if k != "Teams"}
    run(DeleteRecord("team", made.record["id"], made.record["version"]))
    assert _record_counts(client.get("/").get_data(as_text=True)) == before


def test_viewers_see_no_admin_cards(client, login):
    login("viewer")
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="home-conflicts"' not in html and "nav-conflicts" not in html


@pytest.fixture
def linked(app: Flask, tmp_path: Path, accounts) -> Iterator[tuple[Node, Node]]:
    with paired_with(app, tmp_path) as (alpha, beta):
        assert beta.sync("alpha").ok
        yield alpha, beta


def test_admins_see_open_conflicts_peers_lag_and_verification(client, login, linked):
    alpha, beta = linked
    login("admin")
    html = client.get("/").get_data(as_text=True)
    assert "nothing to resolve" in html and "nav-conflicts" not in html
    assert "beta: not reached yet" in html and "Never run." in html

    collide_team(alpha, beta)
    assert "beta: up to date" in client.get("/").get_data(as_text=True)
    with alpha.app.app_context():  # as if beta's last hello said it had 2 events more
        peers.record_success(db.session, "beta", alpha.cursor("beta") + 2)
    html = client.get("/").get_data(as_text=True)
    assert "beta: <strong>2</strong> events behind" in html
    card = html[html.index('data-testid="home-conflicts"'):]
    assert '<a href="/conflicts">1</a>' in card[:400]
    assert "waiting for an admin" in card[:600]
    assert re.search(r'data-testid="nav-conflicts" aria-label="1 open">1</span>', html)
    for page in ("/timeline", "/e/team/", "/nodes"):  # the nav count is on every page
        assert 'data-testid="nav-conflicts"' in client.get(page).get_data(as_text=True)


def test_the_open_conflicts_count_is_bounded(app, client, login, monkeypatch, linked):
    from webapp import chrome

    alpha, beta = linked
    collide_team(alpha, beta)
    collide_team(alpha, beta, slug="second")
    login("admin")
    assert 'aria-label="2 open">2</span>' in client.get("/timeline").get_data(as_text=True)
    monkeypatch.setattr(chrome, "COUNT_CAP", 1)
    assert 'aria-label="1+ open">1+</span>' in client.get("/timeline").get_data(as_text=True)
