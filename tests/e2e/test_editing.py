"""Editing in a real browser: log in, create and edit through the forms, a validation
error, a stale edit with its re-apply, and list search without a full page reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.audit.commands import CreateRecord

pytestmark = pytest.mark.e2e


def test_log_in_create_and_edit_a_team(page, login, live_server, unique):
    login(page, "editor")
    page.click("nav >> text=Teams")
    page.click("text=New team")
    # autofocus lands once the new page has loaded; wait for it rather than race it.
    # (Not wait_for_function with a string: polling evals it, which the page's CSP forbids.)
    expect(page.locator("#slug")).to_be_focused(timeout=5000)
    page.fill("#slug", f"qa-{unique}")
    page.fill("#name", f"QA {unique}")
    page.fill("#description", "First line\nSecond line")
    page.click("button:has-text('Create')")
    page.wait_for_load_state()
    assert f"Team “QA {unique}” created." in page.inner_text(".flashes")
    record_url = page.url
    record_id = record_url.rstrip("/").rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9A-Z]{26}", record_id)

    page.goto(f"{live_server.url}/e/team/{record_id}/edit")
    assert page.input_value("#name") == f"QA {unique}"
    page.fill("#name", f"QA & Testing {unique}")
    page.click("button:has-text('Save')")
    page.wait_for_load_state()
    assert f"Team “QA & Testing {unique}” saved." in page.inner_text(".flashes")

    page.goto(f"{live_server.url}/e/team/?q={unique}")
    assert page.locator("table.record-list tbody tr").count() == 1
    assert f"QA & Testing {unique}" in page.inner_text("table.record-list")


def test_validation_error_shows_beside_its_field_and_saves_nothing(page, login, live_server,
                                                                  unique):
    login(page, "editor")
    page.goto(live_server.url + "/e/team/new")
    page.fill("#slug", f"Not A Slug {unique}")
    page.fill("#name", f"Invalid {unique}")
    page.click("button:has-text('Create')")
    page.wait_for_load_state()
    assert page.url.endswith("/e/team/new")
    assert "use lowercase letters" in page.inner_text("#slug-error")
    assert page.get_attribute("#slug", "aria-invalid") == "true"
    assert page.input_value("#name") == f"Invalid {unique}"  # what was typed is kept
    page.goto(f"{live_server.url}/e/team/?q={unique}")
    assert "No teams match" in page.inner_text("#results")


def test_stale_edit_shows_what_changed_and_reapplies_on_the_current_version(
        new_page, login, live_server, unique):
    team = live_server.run(CreateRecord("team", {
        "slug": f"ops-{unique}", "name": f"Ops {unique}", "description": "Original"})).record
    edit_url = f"{live_server.url}/e/team/{team['id']}/edit"
    mine = login(new_page(), "editor")
    theirs = login(new_page(), "editor2")

    mine.goto(edit_url)  # loaded at version 1
    theirs.goto(edit_url)
    theirs.fill("#description", "Rewritten by editor2")
    theirs.click("button:has-text('Save')")
    theirs.wait_for_load_state()
    assert "saved" in theirs.inner_text(".flashes")

    mine.fill("#name", f"Ops renamed {unique}")
    mine.click("button:has-text('Save')")
    mine.wait_for_load_state()
    notice = mine.inner_text(".stale-notice")
    assert "changed while you were editing" in notice
    assert "Rewritten by editor2" in notice and f"Ops renamed {unique}" in notice
    assert mine.locator("tr.changed-since").count() == 1
    assert mine.input_value("#description") == "Rewritten by editor2"  # their change kept
    assert mine.input_value("#name") == f"Ops renamed {unique}"  # yours re-applied

    mine.click("button:has-text('Re-apply my changes')")
    mine.wait_for_load_state()
    assert "saved" in mine.inner_text(".flashes")
    mine.goto(edit_url)
    assert mine.input_value("#name") == f"Ops renamed {unique}"
    assert mine.input_value("#description") == "Rewritten by editor2"


def test_search_updates_results_without_a_full_reload(page, login, live_server, unique):
    for n in range(3):
        live_server.run(CreateRecord("setting", {"key": f"e2e_{unique}.key{n}", "value": "v"}))
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    login(page, "viewer")
    page.goto(live_server.url + "/e/setting/")
    page.evaluate("window.__noReload = 'still here'")
    with page.expect_response(lambda r: "q=" in r.url and r.request.headers.get("hx-request")):
        page.fill("input[type=search]", f"e2e_{unique}.key1")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert page.evaluate("window.__noReload") == "still here"
    assert f"q=e2e_{unique}.key1" in page.url  # the search is kept in the URL
    expect(page.locator("#results time").first).to_contain_text("UTC")  # the reader's zone
    assert problems == []  # no CSP violation (inline style or script) and no failed load


def test_editing_an_account_needs_the_admin_role(page, login, live_server, unique):
    other = live_server.run(CreateRecord("user", {
        "username": f"u-{unique}", "email": f"u-{unique}@example.com", "role": "viewer",
        "active": True})).record
    login(page, "editor")
    response = page.goto(f"{live_server.url}/e/user/{other['id']}/edit")
    assert response.status == 403
    assert "Not allowed" in page.inner_text("h1")
