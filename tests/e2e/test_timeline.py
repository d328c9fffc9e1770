"""The timeline in a real browser: an edit shows at the top with its diff, filtering and
infinite scroll swap results without a full page reload, and a revert from the record
page. Uses the live server and login fixtures of tests/e2e/conftest.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webapp.audit.commands import CreateRecord, UpdateRecord

pytestmark = pytest.mark.e2e

MARK = "window.__hindsightMarker"  # survives HTMX swaps, lost on a full page load


@pytest.fixture
def small_pages(live_server):
    live_server.app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 5
    yield
    live_server.app.config.pop("HINDSIGHT_TIMELINE_PAGE_SIZE", None)


def test_an_edit_appears_at_the_top_of_the_timeline_with_its_diff(browser, login, live_server,
                                                                   unique):
    team = live_server.run(CreateRecord("team", {
        "slug": f"tl-{unique}", "name": f"Before {unique}"})).record
    context = browser.new_context(timezone_id="Asia/Tokyo")
    try:
        page = login(context.new_page(), "editor")
        page.goto(f"{live_server.url}/e/team/{team['id']}/edit")
        page.fill("#name", f"After <b>{unique}</b>")
        page.click("button:has-text('Save')")
        page.wait_for_load_state()

        page.click("nav >> text=Timeline")
        top = page.locator("ol.timeline > li.event").first
        assert top.locator(".op").inner_text() == "updated"
        assert top.locator(".event-record").inner_text() == f"After <b>{unique}</b>"  # as text
        top.locator("[data-testid=open-diff]").click()
        assert top.locator("del").inner_text() == f"Before {unique}"
        assert top.locator("ins").inner_text() == f"After <b>{unique}</b>"
        assert top.locator(".event-user").inner_text() == "editor"
        assert top.locator("b").count() == 0  # the markup stayed text
        # Times are in the zone chosen in Preferences (UTC by default), not the browser's:
        # the zone the date filters read typed times in.
        assert top.locator("time").inner_text().endswith(" UTC")

        top.locator(".event-time").click()
        page.wait_for_load_state()
        assert "Asked against resulted" in page.inner_text("main")
        assert "changed as asked" in page.inner_text("table.diff-params")
    finally:
        context.close()


def test_filtering_the_timeline_swaps_results_without_a_page_reload(page, login, live_server,
                                                                    unique):
    live_server.run(CreateRecord("setting", {"key": f"e2e.k{unique}", "value": "v"}))
    login(page, "viewer")
    page.goto(live_server.url + "/timeline")
    page.evaluate(f"{MARK} = 'still here'")

    page.select_option("select[name=entity]", "setting")
    page.wait_for_url("**/timeline?entity=setting")
    expect(page.locator(".event-entity").filter(has_not_text="Setting")).to_have_count(0)
    assert page.locator(".event-entity").count() >= 1
    page.select_option("select[name=op]", "created")
    page.wait_for_url("**/timeline?entity=setting&op=created")
    assert page.evaluate(MARK) == "still here"  # no full reload happened

    page.fill("input[name=record]", "not an id")
    page.press("input[name=record]", "Enter")
    page.wait_for_selector("#timeline-results .error-fragment")
    assert "a record filter is a record id" in page.inner_text("#timeline-results")
    assert page.evaluate(MARK) == "still here"

    page.go_back()  # the history entry pushed by the earlier filter
    page.wait_for_url("**/timeline?entity=setting")


def test_scrolling_down_loads_older_events(page, login, live_server, unique, small_pages):
    for n in range(12):
        live_server.run(CreateRecord("setting", {"key": f"e2e.s{unique}.n{n}"}))
    login(page, "viewer")
    page.set_viewport_size({"width": 1280, "height": 300})  # dense rows: keep the
    page.goto(live_server.url + "/timeline")  # "older events" sentinel below the fold
    page.evaluate(f"{MARK} = 1")
    assert page.locator("li.event").count() == 5
    for shown in (10, 15):
        page.locator("#timeline-more").scroll_into_view_if_needed()
        page.locator("li.event").nth(shown - 1).wait_for()  # (CSP forbids eval'd polls)
    ids = page.eval_on_selector_all("li.event", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)) >= 15  # each event once
    assert page.evaluate(MARK) == 1


def test_revert_from_the_record_page(page, login, live_server, unique):
    team = live_server.run(CreateRecord("team", {"slug": f"rv-{unique}", "name": "Original"}))
    live_server.run(UpdateRecord("team", team.record["id"], 1, {"name": "Changed"}))
    login(page, "editor")
    page.goto(f"{live_server.url}/e/team/{team.record['id']}?at={team.event.event_id}")
    assert "Original" in page.inner_text("#state-at")
    page.click("#state-at button:has-text('Revert to this version')")
    page.wait_for_load_state()
    assert "Reverted Name" in page.inner_text(".flashes")
    assert "Version 3" in page.inner_text(".record-version")
    newest = page.locator("ol.timeline > li.event").first
    assert newest.locator(".badge-revert").count() == 1
    assert newest.locator("ins").inner_text() == "Original"
