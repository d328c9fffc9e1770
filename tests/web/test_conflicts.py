"""The conflicts pages: open conflicts with filters, one conflict's sides against their
common ancestor, and the three ways to resolve it -- each one audited command that
replicates and closes the conflict on the other node too."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.sync_nodes import Node, collide_team, paired_with
from tests.web.helpers import csrf_from
from webapp.audit.records import get_record
from webapp.audit.replication import get_conflict, list_conflicts
from webapp.domain import teams
from webapp.extensions import db


@pytest.fixture
def linked(app: Flask, tmp_path: Path,
           accounts: dict[str, object]) -> Iterator[tuple[Node, Node]]:
    """(alpha = the web app, beta), linked both ways."""
    with paired_with(app, tmp_path) as (alpha, beta):
        assert beta.sync("alpha").ok  # beta has the test accounts too
        yield alpha, beta


@pytest.fixture
def collision(linked: tuple[Node, Node]) -> tuple[Node, Node, str, str]:
    """(alpha = the web app, beta, team id, conflict id): one open team conflict."""
    alpha, beta = linked
    team_id = collide_team(alpha, beta)
    with alpha.app.app_context():
        found = list_conflicts(db.session, "open", entity="team")
    assert len(found) == 1
    return alpha, beta, team_id, found[0].conflict_id


def _team(node: Node, team_id: str) -> dict[str, object]:
    with node.app.app_context():
        record = get_record(db.session, teams, team_id)
    assert record is not None
    return record


def _status(node: Node, conflict_id: str) -> str:
    with node.app.app_context():
        found = get_conflict(db.session, conflict_id)
    assert found is not None
    return found.status


def _side_of(node: Node, conflict_id: str, origin: Node) -> str:
    """The index (as posted) of the conflict's side that came from `origin`."""
    with node.app.app_context():
        found = get_conflict(db.session, conflict_id)
    assert found is not None
    return str([s.origin_node_id for s in found.sides].index(origin.node_id))


def _page(client: FlaskClient, conflict_id: str) -> tuple[str, str, str]:
    """(html, csrf token, expected version) of a conflict's page."""
    html = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    version = re.search(r'name="expected_version"[^>]*value="(\d+)"', html)
    assert version, html[:2000]
    return html, csrf_from(html), version.group(1)


def test_admins_see_open_conflicts_and_can_filter_them(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    alpha, beta, _, conflict_id = collision
    login("admin")
    page = client.get("/conflicts").get_data(as_text=True)
    assert conflict_id in page
    assert "Ops (alpha)" in page or "Ops (beta)" in page
    assert conflict_id in client.get("/conflicts?entity=team").get_data(as_text=True)
    assert conflict_id not in client.get("/conflicts?entity=user").get_data(as_text=True)
    assert conflict_id in client.get(f"/conflicts?node={beta.node_id}").get_data(as_text=True)
    # An unknown filter value is ignored (everything is listed) rather than an error.
    ignored = client.get("/conflicts?entity=<script>&node=x")
    assert ignored.status_code == 200
    page = ignored.get_data(as_text=True)
    assert conflict_id in page and "<script>" not in page


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_conflicts_are_admin_only(client: FlaskClient, login: Callable[..., object],
                                  collision: tuple[Node, Node, str, str], role: str) -> None:
    login(role)
    assert client.get("/conflicts").status_code == 403
    assert client.get(f"/conflicts/{collision[3]}").status_code == 403


def test_the_sides_are_shown_against_their_ancestor_with_differences_marked(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    login("admin")
    html, _, _ = _page(client, collision[3])
    assert "Operations" in html  # the common ancestor's name
    assert "Ops (alpha)" in html and "Ops (beta)" in html
    assert "provisional winner" in html
    # Only the name was changed differently on both sides: the description, changed on
    # beta alone, is merged already and offered as no choice.
    differing = re.findall(r'<tr class="conflict-differs" data-field="(\w+)"', html)
    assert differing == ["name"]
    assert 'data-field="slug"' in html
    description = re.search(r'<tr[^>]*data-field="description">.*?</tr>', html, re.S)
    assert description and 'data-testid="merged"' in description.group(0)
    assert "Runs the pager" in description.group(0)
    assert "1 disputed field" in html and "merged already" in html
    picks = re.findall(r'name="pick-(\w+)"', html)
    assert set(picks) == {"name"}
    assert not re.search(r'name="pick-name"[^>]*checked', html)  # nothing preselected


def test_taking_one_side_resolves_and_replicates(client: FlaskClient,
                                                 login: Callable[..., object],
                                                 collision: tuple[Node, Node, str, str]) -> None:
    alpha, beta, team_id, conflict_id = collision
    admin = login("admin")
    _, token, version = _page(client, conflict_id)
    side = _side_of(alpha, conflict_id, beta)
    response = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "side", "side": side, "expected_version": version},
        follow_redirects=True)
    assert response.status_code == 200
    assert "Conflict resolved" in response.get_data(as_text=True)
    assert _team(alpha, team_id)["name"] == "Ops (beta)"
    assert _team(alpha, team_id)["description"] == "Runs the pager"  # merged, kept
    assert _status(alpha, conflict_id) == "resolved"
    listing = client.get("/conflicts").get_data(as_text=True)
    resolved = listing[listing.index('data-testid="resolved-conflicts"'):]
    assert conflict_id in resolved and admin.username in resolved  # type: ignore[attr-defined]
    shown = client.get(f"/conflicts/{conflict_id}").get_data(as_text=True)
    assert re.search(r'data-testid="resolved-by">\s*' + re.escape(admin.username), shown)  # type: ignore[attr-defined]
    assert "Take one side" not in shown and "Choose each disputed field" not in shown
    # The resolution replicates and closes the conflict on beta as well.
    assert beta.sync("alpha").ok
    assert _status(beta, conflict_id) == "resolved"
    assert _team(beta, team_id)["name"] == "Ops (beta)"


def test_a_disputed_field_is_chosen_and_the_merged_ones_stay(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    alpha, beta, team_id, conflict_id = collision
    login("admin")
    _, token, version = _page(client, conflict_id)
    alpha_side = _side_of(alpha, conflict_id, alpha)
    response = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "fields", "expected_version": version,
        "pick-name": alpha_side})
    assert response.status_code == 302
    team = _team(alpha, team_id)
    # Alpha's name; beta's description, which nobody disputed, is not undone.
    assert (team["name"], team["description"]) == ("Ops (alpha)", "Runs the pager")


def test_a_posted_pick_for_a_merged_field_cannot_undo_it(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    alpha, _, team_id, conflict_id = collision
    login("admin")
    _, token, version = _page(client, conflict_id)
    alpha_side = _side_of(alpha, conflict_id, alpha)  # alpha's description is the old one
    response = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "fields", "expected_version": version,
        "pick-name": alpha_side, "pick-description": alpha_side})
    assert response.status_code == 302
    assert _team(alpha, team_id)["description"] == "Runs the pager"


def test_an_edited_merge_is_validated_then_saved(client: FlaskClient,
                                                 login: Callable[..., object],
                                                 event_count: Callable[[], int],
                                                 collision: tuple[Node, Node, str, str]) -> None:
    alpha, _, team_id, conflict_id = collision
    login("admin")
    html, token, version = _page(client, conflict_id)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html)
    assert key
    form = {"csrf_token": token, "mode": "edit", "expected_version": version,
            "idempotency_key": key.group(1), "slug": "ops", "description": "Both"}
    before = event_count()
    bad = client.post(f"/conflicts/{conflict_id}/resolve", data={**form, "name": ""})
    assert bad.status_code == 422 and "is required" in bad.get_data(as_text=True)
    assert event_count() == before and _status(alpha, conflict_id) == "open"
    good = client.post(f"/conflicts/{conflict_id}/resolve", data={**form, "name": "Ops"})
    assert good.status_code == 302
    assert _team(alpha, team_id)["name"] == "Ops" and _status(alpha, conflict_id) == "resolved"


def test_a_stale_resolution_gets_a_409_page_and_writes_nothing(
        client: FlaskClient, login: Callable[..., object], event_count: Callable[[], int],
        collision: tuple[Node, Node, str, str]) -> None:
    _, _, _, conflict_id = collision
    login("admin")
    _, token, version = _page(client, conflict_id)
    before = event_count()
    response = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "side", "side": "0",
        "expected_version": str(int(version) - 1)})
    assert response.status_code == 409
    assert "changed while you were looking" in response.get_data(as_text=True)
    assert event_count() == before


def test_bad_resolve_requests_write_nothing(client: FlaskClient, login: Callable[..., object],
                                            event_count: Callable[[], int],
                                            collision: tuple[Node, Node, str, str]) -> None:
    _, _, _, conflict_id = collision
    login("admin")
    _, token, version = _page(client, conflict_id)
    before = event_count()
    url = f"/conflicts/{conflict_id}/resolve"
    assert client.post(url, data={"mode": "side", "side": "0",
                                  "expected_version": version}).status_code == 400  # no CSRF
    # "²" and "٣" pass str.isdigit(); int() refuses the first and reads the second as 3.
    for data in ({"mode": "side", "side": "7"}, {"mode": "nonsense"}, {},
                 {"mode": "side", "side": "²"}, {"mode": "side", "side": "٣"},
                 {"mode": "side", "side": "-1"}, {"mode": "side"},
                 {"mode": "fields"}, {"mode": "fields", "pick-description": "0"},
                 {"mode": "fields", "pick-slug": "0", "pick-name": "²", "pick-description": "0"},
                 {"mode": "side", "side": "0", "expected_version": "x"},
                 {"mode": "side", "side": "0", "expected_version": "²"},
                 {"mode": "side", "side": "0", "expected_version": "9" * 13}):
        response = client.post(url, data={"csrf_token": token, "expected_version": version,
                                          **data})
        assert response.status_code == 400, data
        assert "Nothing was saved" in response.get_data(as_text=True)
    assert client.get("/conflicts/NOPE").status_code == 404
    assert client.get("/conflicts/" + "A" * 200).status_code == 404
    assert client.post("/conflicts/NOPE/resolve", data={"csrf_token": token}).status_code == 404
    assert event_count() == before


def _only_open(node: Node, kind: str) -> str:
    with node.app.app_context():
        found = [c for c in list_conflicts(db.session, "open") if c.kind == kind]
    assert len(found) == 1, found
    return found[0].conflict_id


def test_the_same_username_on_two_nodes_is_fixed_by_renaming_the_loser(
        client: FlaskClient, login: Callable[..., object],
        linked: tuple[Node, Node]) -> None:
    from webapp.audit.commands import CreateRecord
    from webapp.domain import users

    alpha, beta = linked
    for node, mail in ((alpha, "sam@a.org"), (beta, "sam@b.org")):
        node.run(CreateRecord("user", {"username": "sam", "email": mail, "role": "viewer",
                                       "active": True}))
    assert alpha.sync("beta").ok and beta.sync("alpha").ok
    conflict_id = _only_open(alpha, "unique_collision")
    assert _only_open(beta, "unique_collision") == conflict_id
    login("admin")
    html, token, version = _page(client, conflict_id)
    assert "Two records claim the same username" in html and "to fix" in html
    assert "Take one side" not in html  # the sides are different records
    with alpha.app.app_context():
        loser = get_conflict(db.session, conflict_id).record_id  # type: ignore[union-attr]
        current = get_record(db.session, users, loser)
    assert current is not None and current["username"] != "sam"
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html)
    assert key
    response = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "edit", "expected_version": version,
        "idempotency_key": key.group(1), "username": "sam-b", "email": current["email"],
        "role": "viewer", "active": "y", "full_name": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert _status(alpha, conflict_id) == "resolved"
    assert beta.sync("alpha").ok and _status(beta, conflict_id) == "resolved"
    with beta.app.app_context():
        renamed = get_record(db.session, users, loser)
    assert renamed is not None and renamed["username"] == "sam-b"


def test_update_against_delete_can_be_settled_by_taking_the_deletion(
        client: FlaskClient, login: Callable[..., object],
        linked: tuple[Node, Node]) -> None:
    from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord

    alpha, beta = linked
    team = alpha.run(CreateRecord("team", {"slug": "gone", "name": "Gone"})).record
    assert beta.sync("alpha").ok
    alpha.run(UpdateRecord("team", team["id"], 1, {"name": "Still here"}))
    beta.run(DeleteRecord("team", team["id"], 1))
    assert alpha.sync("beta").ok and beta.sync("alpha").ok
    conflict_id = _only_open(alpha, "update_delete")
    login("admin")
    html, token, version = _page(client, conflict_id)
    assert "deleted the record" in html and "Still here" in html
    deleted_side = _side_of(alpha, conflict_id, beta)
    response = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "side", "side": deleted_side, "expected_version": version})
    assert response.status_code == 302
    with alpha.app.app_context():
        assert get_record(db.session, teams, team["id"]) is None
    assert beta.sync("alpha").ok and _status(beta, conflict_id) == "resolved"


def test_password_hashes_on_either_side_are_never_shown(
        client: FlaskClient, login: Callable[..., object], linked: tuple[Node, Node]) -> None:
    from webapp.audit.commands import CreateRecord, UpdateRecord

    alpha, beta = linked
    pat = alpha.run(CreateRecord("user", {"username": "pat", "email": "pat@a.org",
                                           "role": "viewer", "active": True,
                                           "password": "first password"})).record
    assert beta.sync("alpha").ok
    alpha.run(UpdateRecord("user", pat["id"], 1, {"password": "alpha password"}))
    beta.run(UpdateRecord("user", pat["id"], 1, {"password": "beta password",
                                                  "full_name": "Pat B"}))
    assert alpha.sync("beta").ok and beta.sync("alpha").ok
    conflict_id = _only_open(alpha, "concurrent_update")
    with alpha.app.app_context():
        conflict = get_conflict(db.session, conflict_id)
    assert conflict is not None and conflict.ancestor is not None
    hashes = {conflict.ancestor["password"], *(s.state["password"] for s in conflict.sides
                                               if s.state)}
    assert len(hashes) == 3 and all(h.startswith("$argon2id$") for h in hashes)
    login("admin")
    html, _, _ = _page(client, conflict_id)
    assert "Pat B" in html  # the sides are shown...
    row = re.search(r'<tr class="conflict-differs" data-field="password">.*?</tr>', html, re.S)
    # ...their passwords (ancestor, both sides, the record now) only as "set"
    assert row and row.group(0).count(">set<") == 4
    assert "argon2" not in html and not any(h in html for h in hashes)
    assert 'name="pick-password"' not in html


def _marks(html: str) -> dict[str, str]:
    """event id -> its conflict mark on a timeline page."""
    found = {}
    for event_id, body in re.findall(r'<li class="event[^"]*" id="event-(\w+)">(.*?)</li>',
                                     html, re.S):
        mark = re.search(r'data-testid="conflict-mark"[^>]*>([^<]+)<', body)
        if mark:
            found[event_id] = mark.group(1)
    return found


def test_timelines_mark_the_events_that_lost_or_took_part_in_a_conflict(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    alpha, _, team_id, conflict_id = collision
    with alpha.app.app_context():
        found = get_conflict(db.session, conflict_id)
    assert found is not None
    winner = found.winner_event_id
    losers = {s.event_id for s in found.sides} - {winner}
    assert losers
    expected = {winner: "conflict", **{e: "lost in conflict (name)" for e in losers}}
    login("admin")
    for url in (f"/e/team/{team_id}", "/timeline?entity=team"):
        html = client.get(url).get_data(as_text=True)
        assert _marks(html) == expected, url
        assert f'href="/conflicts/{conflict_id}"' in html  # admins can open the conflict
    login("viewer")
    for url in (f"/e/team/{team_id}", "/timeline?entity=team"):
        # The timeline's rows an admin saw are remembered: not their link for a viewer.
        html = client.get(url).get_data(as_text=True)
        assert _marks(html) == expected, url
        assert f'href="/conflicts/{conflict_id}"' not in html, url  # viewers may not


def test_a_remembered_timeline_row_shows_its_conflict_resolved(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    alpha, _, _, conflict_id = collision
    login("admin")
    before = client.get("/timeline?entity=team").get_data(as_text=True)
    assert "replication conflict (open)" in before
    _, token, version = _page(client, conflict_id)
    assert client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": token, "mode": "side", "side": "0",
        "expected_version": version}).status_code == 302
    assert _status(alpha, conflict_id) == "resolved"
    after = client.get("/timeline?entity=team").get_data(as_text=True)
    assert "replication conflict (open)" not in after
    assert "replication conflict (resolved)" in after


def test_keeping_a_delete_that_references_would_refuse_is_not_offered(
        client: FlaskClient, login: Callable[..., object],
        linked: tuple[Node, Node]) -> None:
    from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord

    alpha, beta = linked
    team = alpha.run(CreateRecord("team", {"slug": "core", "name": "Core"})).record
    assert beta.sync("alpha").ok
    beta.run(DeleteRecord("team", team["id"], 1))
    time.sleep(0.005)  # the update comes later, so it wins: the team lives on
    alpha.run(UpdateRecord("team", team["id"], 1, {"name": "Core team"}))
    # A project that uses the team, made on alpha after its update.
    alpha.run(CreateRecord("project", {"name": "Apollo", "team_id": team["id"],
                                       "status": "planned"}))
    assert alpha.sync("beta").ok
    conflict_id = _only_open(alpha, "update_delete")
    assert _team(alpha, team["id"])["name"] == "Core team"
    login("admin")
    html, _, _ = _page(client, conflict_id)
    assert 'data-testid="delete-blocked"' in html and "project" in html
    deleted = _side_of(alpha, conflict_id, beta)
    letter = chr(ord("A") + int(deleted))
    assert f'data-testid="take-side-{letter}"' not in html
    # Posted anyway (an old page, a crafted request): refused with the reason, and
    # nothing is written.
    _, token, version = _page(client, conflict_id)
    for data in ({"mode": "side", "side": deleted}, {"mode": "delete"}):
        response = client.post(f"/conflicts/{conflict_id}/resolve", data={
            "csrf_token": token, "expected_version": version, **data})
        assert response.status_code in (400, 409), data
        assert "Nothing was saved" in response.get_data(as_text=True)
    assert _status(alpha, conflict_id) == "open"
    assert _team(alpha, team["id"])["name"] == "Core team"


def test_a_merged_record_says_where_each_field_came_from_and_the_timeline_marks_the_merge(
        client: FlaskClient, login: Callable[..., object], linked: tuple[Node, Node]) -> None:
    from webapp.audit.commands import CreateRecord, UpdateRecord

    alpha, beta = linked
    made = alpha.run(CreateRecord("team", {"slug": "web", "name": "Web"}))
    team = made.record
    assert beta.sync("alpha").ok and made.event is not None
    mine = alpha.run(UpdateRecord("team", team["id"], 1, {"description": "<b>alpha</b>"}))
    theirs = beta.run(UpdateRecord("team", team["id"], 1, {"name": "Web & Mobile"}))
    assert alpha.sync("beta").ok
    assert mine.event is not None and theirs.event is not None
    assert (_team(alpha, team["id"])["name"], _team(alpha, team["id"])["description"]) == (
        "Web & Mobile", "<b>alpha</b>")
    login("viewer")
    html = client.get(f"/e/team/{team['id']}").get_data(as_text=True)
    for name, event in (("name", theirs.event), ("description", mine.event),
                        ("slug", made.event)):
        cell = re.search(rf'data-testid="source-{name}">(.*?)</td>', html, re.S)
        assert cell is not None and f'href="/events/{event.event_id}"' in cell.group(1), name
    assert "&lt;b&gt;alpha&lt;/b&gt;" in html and "<b>alpha</b>" not in html  # escaped
    marks = _marks(html)
    assert marks[mine.event.event_id] == "merged (description)"
    assert marks[theirs.event.event_id] == "merged (name)"
    login("admin")
    assert client.get("/conflicts").status_code == 200
    with alpha.app.app_context():
        assert list_conflicts(db.session, "open") == []


def test_the_edit_form_of_a_record_in_conflict_says_so_and_what_saving_does(
        client: FlaskClient, login: Callable[..., object],
        collision: tuple[Node, Node, str, str]) -> None:
    _, _, team_id, conflict_id = collision
    login("admin")
    html = client.get(f"/e/team/{team_id}/edit").get_data(as_text=True)
    notice = re.search(r'data-testid="open-dispute">(.*?)</p>', html, re.S)
    assert notice and "Name" in notice.group(1) and "settles the conflict" in notice.group(1)
    assert f"/conflicts/{conflict_id}" in notice.group(1)
    login("editor")
    html = client.get(f"/e/team/{team_id}/edit").get_data(as_text=True)
    assert 'data-testid="open-dispute"' in html and f"/conflicts/{conflict_id}" not in html
