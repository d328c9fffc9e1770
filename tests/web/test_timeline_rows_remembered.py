"""A timeline row's HTML is remembered per process (an event never changes), but what
the row prints besides its event is read again on every page: a renamed user, a renamed
referenced record or another reader's zone shows at once, never a stale row."""

from __future__ import annotations

import re

from markupsafe import Markup

from tests.web.timeline_helpers import event_ids
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.domain import users
from webapp.rendered import Fragment, Fragments


def _row(html: str, event_id: str) -> str:
    row = html[html.index(f'id="event-{event_id}"'):]
    return row[:row.index("</li>")]


def test_a_renamed_user_shows_in_rows_already_rendered(app, client, login, run, accounts):
    editor = accounts["editor"]
    made = run(CreateRecord("team", {"slug": "u", "name": "U"}), user_id=editor.id)
    login("viewer")
    first = _row(client.get("/timeline").get_data(as_text=True), made.event.event_id)
    assert f'<span class="event-user">{editor.username}</span>' in first
    with app.app_context():
        from webapp.audit.records import get_record
        from webapp.extensions import db
        version = get_record(db.session, users, editor.id)["version"]
    run(UpdateRecord("user", editor.id, version, {"username": "renamed-editor"}))
    again = _row(client.get("/timeline").get_data(as_text=True), made.event.event_id)
    assert '<span class="event-user">renamed-editor</span>' in again


def test_a_deleted_account_is_no_longer_named_in_rows_already_rendered(app, client, login,
                                                                       run, accounts):
    """Authors are named while their account lives: once it is deleted, rows (the
    timeline's and the record's history) show the user id they were written under."""
    editor = accounts["editor"]
    made = run(CreateRecord("team", {"slug": "d", "name": "D"}), user_id=editor.id)
    pages = ("/timeline", f"/e/team/{made.record['id']}")
    login("viewer")
    for url in pages:
        row = _row(client.get(url).get_data(as_text=True), made.event.event_id)
        assert editor.username in row and editor.id not in row, url
    with app.app_context():
        from webapp.audit.records import get_record
        from webapp.extensions import db
        version = get_record(db.session, users, editor.id)["version"]
    run(DeleteRecord("user", editor.id, version))
    for url in pages:
        row = _row(client.get(url).get_data(as_text=True), made.event.event_id)
        assert editor.username not in row and editor.id in row, url


def test_a_renamed_reference_shows_in_rows_already_rendered(client, login, run):
    red = run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    blue = run(CreateRecord("team", {"slug": "blue", "name": "Blue"})).record
    project = run(CreateRecord("project", {"name": "Apollo", "team_id": red["id"],
                                           "status": "planned"})).record
    moved = run(UpdateRecord("project", project["id"], 1, {"team_id": blue["id"]})).event
    login("viewer")
    row = _row(client.get("/timeline").get_data(as_text=True), moved.event_id)
    assert "Team: Red → Blue" in row
    run(UpdateRecord("team", blue["id"], 1, {"name": "Azure"}))
    row = _row(client.get("/timeline").get_data(as_text=True), moved.event_id)
    assert "Team: Red → Azure" in row and "Blue" not in row


def test_each_reader_sees_rows_in_their_own_zone(app, client, login, run, csrf_token):
    made = run(CreateRecord("team", {"slug": "z", "name": "Z"}))
    tokyo = app.test_client()
    login("viewer")
    login("admin", on=tokyo)
    assert tokyo.post("/preferences", data={
        "time_zone": "Asia/Tokyo", "csrf_token": csrf_token("/preferences", on=tokyo)}
    ).status_code == 302
    zone = re.compile(r'<time datetime="[^"]+">[^<]+ (\S+)</time>')
    for _ in range(2):  # the second time from remembered rows
        utc = _row(client.get("/timeline").get_data(as_text=True), made.event.event_id)
        jst = _row(tokyo.get("/timeline").get_data(as_text=True), made.event.event_id)
        assert zone.search(utc).group(1) == "UTC" and zone.search(jst).group(1) == "JST"


def test_rows_read_twice_are_the_same_page(client, login, run):
    for n in range(3):
        run(CreateRecord("team", {"slug": f"s{n}", "name": f"<b>S{n}</b>"}))
    login("viewer")
    rows = re.compile(r'<ol class="timeline timeline-dense">.*</ol>', re.S)
    first = rows.search(client.get("/timeline").get_data(as_text=True)).group(0)
    second = rows.search(client.get("/timeline").get_data(as_text=True)).group(0)
    assert first == second and len(event_ids(first)) >= 3
    assert "&lt;b&gt;S0&lt;/b&gt;" in first and "<b>S0</b>" not in first


def test_fragments_keep_the_most_recently_used_within_their_bounds():
    kept = Fragments(2, chars=100)
    for key in ("a", "b"):
        kept.put(key, Fragment((), key, Markup(key)))
    assert kept.get("a") is not None  # "a" used: "b" is now the oldest
    kept.put("c", Fragment((), "c", Markup("c")))
    assert kept.get("b") is None and kept.get("a") is not None and len(kept) == 2
    kept.put("long", Fragment((), "long", Markup("x" * 100)))  # over 100 chars with "c"
    assert len(kept) == 1 and kept.get("long") is not None
    kept.put("long", Fragment((), "long", Markup("y")))  # replaced, not counted twice
    kept.put("d", Fragment((), "d", Markup("d")))
    assert kept.get("long") is not None and kept.get("d") is not None
