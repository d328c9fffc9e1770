"""Edits that race: a stale edit or delete is refused with what changed since (and a
way to go on), a double submit writes once, a reused form with other values is refused."""

from __future__ import annotations

from tests.web.entity_helpers import edit_form, new_form, record_of
from tests.web.helpers import form_values
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord


def test_stale_edit_is_refused_and_shows_what_changed_since(app, client, login, run,
                                                            event_count, team):
    login("editor")
    form = edit_form(client, team["id"])
    run(UpdateRecord("team", team["id"], 1, {"description": "Changed by someone else"}))
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/edit", data={**form, "name": "Mine"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert event_count() == before
    assert "changed while you were editing" in html
    assert "Changed by someone else" in html and "Old text" in html and "Mine" in html
    reapply = form_values(html, "/edit")
    assert reapply["expected_version"] == "2"
    assert reapply["idempotency_key"] != form["idempotency_key"]
    assert reapply["name"] == "Mine"  # your change...
    assert reapply["description"] == "Changed by someone else"  # ...on top of theirs
    response = client.post(f"/e/team/{team['id']}/edit", data=reapply)
    assert response.status_code == 302
    record = record_of(app, "team", team["id"])
    assert (record["name"], record["description"]) == ("Mine", "Changed by someone else")
    assert record["version"] == 3


def test_edit_of_a_record_deleted_meanwhile_is_a_409(client, login, run, event_count, team):
    login("editor")
    form = edit_form(client, team["id"])
    run(DeleteRecord("team", team["id"], 1))
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/edit", data={**form, "name": "Mine"})
    assert response.status_code == 409
    assert "was deleted after you opened the form" in response.get_data(as_text=True)
    assert event_count() == before


def test_double_submitted_create_writes_once_and_lands_on_the_same_record(
        client, login, event_count):
    login("editor")
    data = {**new_form(client), "slug": "blue", "name": "Blue"}
    before = event_count()
    first = client.post("/e/team/new", data=data)
    second = client.post("/e/team/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert event_count() == before + 1


def test_double_submitted_edit_writes_once(client, login, event_count, team):
    login("editor")
    data = {**edit_form(client, team["id"]), "name": "Twice"}
    before = event_count()
    first = client.post(f"/e/team/{team['id']}/edit", data=data)
    second = client.post(f"/e/team/{team['id']}/edit", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert event_count() == before + 1


def test_reused_form_with_other_values_is_refused(client, login, event_count, team):
    login("editor")
    data = {**new_form(client), "slug": "blue", "name": "Blue"}
    client.post("/e/team/new", data=data)
    before = event_count()
    response = client.post("/e/team/new", data={**data, "slug": "other", "name": "Other"})
    assert response.status_code == 422
    assert "already used" in response.get_data(as_text=True)
    assert event_count() == before


def test_delete_asks_first_then_deletes_once(app, client, login, event_count, team):
    login("editor")
    page = client.get(f"/e/team/{team['id']}/delete")
    assert page.status_code == 200 and "Delete team" in page.get_data(as_text=True)
    data = form_values(page.get_data(as_text=True), "/delete")
    before = event_count()
    first = client.post(f"/e/team/{team['id']}/delete", data=data)
    second = client.post(f"/e/team/{team['id']}/delete", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == "/e/team/"
    assert event_count() == before + 1
    assert record_of(app, "team", team["id"]) is None


def test_stale_delete_is_refused_and_shows_the_change(client, login, run, event_count, team):
    login("editor")
    data = form_values(client.get(f"/e/team/{team['id']}/delete").get_data(as_text=True),
                       "/delete")
    run(UpdateRecord("team", team["id"], 1, {"name": "Renamed"}))
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/delete", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Renamed" in html
    assert form_values(html, "/delete")["expected_version"] == "2"
    assert event_count() == before


def test_deleting_a_record_still_referenced_is_refused(client, login, run, event_count, team):
    project = run(CreateRecord("project", {"name": "Apollo <1>", "team_id": team["id"],
                                           "status": "active"})).record
    login("editor")
    page = client.get(f"/e/team/{team['id']}/delete").get_data(as_text=True)
    # The confirm page warns first, naming the user of the record, with a link.
    warning = page[page.index('data-testid="used-by"'):]
    assert "Project “<bdi>Apollo &lt;1&gt;</bdi>”" in warning
    assert f'href="/e/project/{project["id"]}"' in warning
    data = form_values(page, "/delete")
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/delete", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "still used" in html
    assert "Apollo &lt;1&gt;" in html and project["id"] not in html.split("used-by")[0]
    assert event_count() == before


def test_new_form_keeps_its_idempotency_key_in_its_url(client, login, event_count):
    """Back after a create returns to that URL: the form it shows repeats the create."""
    login("editor")
    response = client.get("/e/team/new")
    assert response.status_code == 302
    url = response.headers["Location"]
    key = url.split("key=", 1)[1]
    assert form_values(client.get(url).get_data(as_text=True), "/new")["idempotency_key"] == key
    data = {**form_values(client.get(url).get_data(as_text=True), "/new"),
            "slug": "back", "name": "Back"}
    before = event_count()
    first = client.post("/e/team/new", data=data)
    again = {**form_values(client.get(url).get_data(as_text=True), "/new"),
             "slug": "back", "name": "Back"}  # the page Back shows, fetched again
    second = client.post("/e/team/new", data=again)
    assert first.headers["Location"] == second.headers["Location"]
    assert event_count() == before + 1
    assert client.get("/e/team/new").headers["Location"] != url  # a new form, a new key
