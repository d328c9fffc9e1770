"""Revert to a version: a new audited update (never a rewrite), editors only, CSRF,
built on the version the reader saw."""

from __future__ import annotations

import pytest

from tests.web.entity_helpers import record_of
from tests.web.helpers import form_values
from tests.web.timeline_helpers import all_events
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord


@pytest.fixture
def team(run):
    record = run(CreateRecord("team", {"slug": "red", "name": "Red", "description": "one"}))
    run(UpdateRecord("team", record.record["id"], 1, {"name": "Red Team", "description": "two"}))
    return {"id": record.record["id"], "created": record.event.event_id}


def _url(team):
    return f"/e/team/{team['id']}/revert/{team['created']}"


def _form(client, team):
    """The revert form's fields (CSRF token, expected version) from the record page."""
    html = client.get(f"/e/team/{team['id']}").get_data(as_text=True)
    return form_values(html, f"/revert/{team['created']}")


def test_revert_writes_one_update_that_restores_the_old_values(app, client, login, team,
                                                               event_count):
    login("editor")
    before = event_count()
    response = client.post(_url(team), data=_form(client, team))
    assert response.status_code == 303
    assert event_count() == before + 1
    record = record_of(app, "team", team["id"])
    assert (record["name"], record["description"], record["version"]) == ("Red", "one", 3)
    event = all_events(app)[0]
    assert event.op == "updated" and event.meta == {"revert_of": team["created"]}
    assert event.params == {"name": "Red", "description": "one"}
    assert len(all_events(app, record_id=team["id"])) == 3  # history kept, not rewritten
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reverted" in page and 'class="badge badge-revert"' in page


def test_double_submitted_revert_writes_once(app, client, login, team, event_count):
    login("editor")
    form = _form(client, team)
    before = event_count()
    assert client.post(_url(team), data=form).status_code == 303
    assert client.post(_url(team), data=form).status_code == 303
    assert event_count() == before + 1


def test_stale_revert_is_refused_with_409_and_writes_nothing(app, client, login, run, team,
                                                             event_count):
    login("editor")
    form = _form(client, team)
    run(UpdateRecord("team", team["id"], 2, {"name": "Renamed meanwhile"}))
    before = event_count()
    response = client.post(_url(team), data=form)
    assert response.status_code == 409
    assert "changed since you loaded the page" in response.get_data(as_text=True)
    assert event_count() == before
    assert record_of(app, "team", team["id"])["name"] == "Renamed meanwhile"


def test_viewer_gets_403_on_revert(client, login, team, event_count, csrf_token):
    login("viewer")
    before = event_count()
    response = client.post(_url(team), data={"csrf_token": csrf_token(f"/e/team/{team['id']}"),
                                             "expected_version": "2"})
    assert response.status_code == 403
    assert event_count() == before


def test_anonymous_revert_is_sent_to_login(client, team, event_count, csrf_token):
    before = event_count()
    response = client.post(_url(team), data={"csrf_token": csrf_token("/login"),
                                             "expected_version": "2"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert event_count() == before


def test_revert_without_csrf_token_is_refused(client, login, team, event_count):
    login("editor")
    before = event_count()
    form = _form(client, team)
    del form["csrf_token"]
    assert client.post(_url(team), data=form).status_code == 400
    assert event_count() == before


def test_revert_without_expected_version_is_refused(client, login, team, event_count):
    login("editor")
    form = {**_form(client, team), "expected_version": "two"}
    before = event_count()
    assert client.post(_url(team), data=form).status_code == 400
    assert event_count() == before


def test_reverting_a_user_needs_admin_and_never_restores_a_password(app, client, login, run,
                                                                    accounts, csrf_token,
                                                                    event_count):
    viewer = accounts["viewer"]
    created = all_events(app, record_id=viewer.id)[0]
    run(UpdateRecord("user", viewer.id, 1, {"role": "editor", "password": "new long password"}))
    hash_now = record_of(app, "user", viewer.id)["password"]
    url = f"/e/user/{viewer.id}/revert/{created.event_id}"
    login("editor")
    data = {"csrf_token": csrf_token("/timeline"), "expected_version": "2"}
    assert client.post(url, data=data).status_code == 403
    login("admin")
    before = event_count()
    assert client.post(url, data={**data, "csrf_token": csrf_token("/timeline")}).status_code == 303
    record = record_of(app, "user", viewer.id)
    assert record["role"] == "viewer" and record["password"] == hash_now
    assert all_events(app)[0].params == {"role": "viewer"} and event_count() == before + 1


def test_revert_to_the_current_values_writes_nothing(app, client, login, run, team,
                                                     event_count, csrf_token):
    latest = all_events(app, record_id=team["id"])[0]
    login("editor")
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/revert/{latest.event_id}", data={
        "csrf_token": csrf_token("/timeline"), "expected_version": "2"})
    assert response.status_code == 303 and event_count() == before
    assert "nothing to revert" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_reverting_a_deleted_record_is_a_conflict(app, client, login, run, team, event_count,
                                                  csrf_token):
    login("editor")
    form = _form(client, team)
    run(DeleteRecord("team", team["id"], 2))
    before = event_count()
    response = client.post(_url(team), data=form)
    assert response.status_code == 409 and "was deleted" in response.get_data(as_text=True)
    assert event_count() == before


def test_revert_to_an_event_of_another_record_is_404(client, login, run, team, csrf_token):
    other = run(CreateRecord("team", {"slug": "blue", "name": "Blue"}))
    login("editor")
    response = client.post(f"/e/team/{team['id']}/revert/{other.event.event_id}", data={
        "csrf_token": csrf_token("/timeline"), "expected_version": "2"})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/e/nope/{id}/revert/{created}",
                                  "/e/team/not-an-id/revert/{created}",
                                  "/e/team/{id}/revert/not-an-event",
                                  "/e/team/{id}/revert/01J00000000000000000000000"])
def test_revert_to_an_unknown_entity_record_or_event_is_404(client, login, team, event_count,
                                                             csrf_token, path):
    login("editor")
    before = event_count()
    response = client.post(path.format(**team), data={
        "csrf_token": csrf_token("/timeline"), "expected_version": "2"})
    assert response.status_code == 404
    assert event_count() == before


def test_revert_to_a_delete_is_refused_with_400(app, client, login, run, csrf_token, event_count):
    """Reverting "to" a delete would mean deleting, which a revert never does."""
    login("editor")
    created = run(CreateRecord("setting", {"key": "mail.host", "value": "smtp"}))
    deleted = run(DeleteRecord("setting", created.record["id"], 1))
    before = event_count()
    response = client.post(f"/e/setting/{created.record['id']}/revert/{deleted.event.event_id}",
                           data={"csrf_token": csrf_token("/timeline"), "expected_version": "1"})
    assert response.status_code == 400
    assert "deleted the record" in response.get_data(as_text=True)
    assert event_count() == before


def test_a_delete_that_lost_to_an_update_offers_no_revert(client, login, tmp_path, app,
                                                          accounts):
    """An update against a delete: the later update wins and the record lives on, with the
    delete in its history. Reverting "to" a delete is not an update: never offered."""
    import time

    from tests.support.sync_nodes import paired_with

    with paired_with(app, tmp_path) as (alpha, beta):
        assert beta.sync("alpha").ok
        team = alpha.run(CreateRecord("team", {"slug": "core", "name": "Core"})).record
        assert beta.sync("alpha").ok
        deleted = beta.run(DeleteRecord("team", team["id"], 1)).event
        time.sleep(0.005)  # the update comes later, so it wins
        alpha.run(UpdateRecord("team", team["id"], 1, {"name": "Core team"}))
        assert alpha.sync("beta").ok
        login("editor")
        for url in (f"/e/team/{team['id']}", f"/e/team/{team['id']}?at={deleted.event_id}"):
            html = client.get(url).get_data(as_text=True)
            assert f"/revert/{deleted.event_id}" not in html, url
            assert "Revert to this version" in html  # the other changes still offer it
