"""Choosing a time zone in a real browser: the timeline then shows that zone, whatever
the browser's own, and typing the time shown into the date picker finds the event."""

from __future__ import annotations

import pytest

from webapp.audit.commands import CreateRecord

pytestmark = pytest.mark.e2e


def test_the_chosen_zone_is_shown_and_filtered_on(browser, login, live_server, unique):
    team = live_server.run(CreateRecord("team", {"slug": f"tz-{unique}",
                                                 "name": f"Tz {unique}"})).record
    context = browser.new_context(timezone_id="America/Los_Angeles")
    try:
        page = login(context.new_page(), "admin")
        page.click("nav >> text=Preferences")
        page.select_option("#time_zone", "Asia/Kolkata")
        page.click("button:has-text('Save')")
        page.wait_for_load_state()
        assert "Times are now shown in Asia/Kolkata" in page.inner_text(".flashes")

        page.goto(f"{live_server.url}/timeline?record={team['id']}")
        shown = page.locator("#timeline-results time").first.inner_text()
        assert shown.endswith(" IST")
        day, clock, _ = shown.split(" ")
        page.fill("input[name=from]", f"{day}T{clock[:5]}")
        page.fill("input[name=to]", f"{day}T{clock[:5]}")
        page.click("button:has-text('Filter')")
        page.wait_for_url(f"**/timeline?*from={day}T{clock[:2]}*")
        assert page.locator("#timeline-results li.event").count() == 1
        assert "From (Asia/Kolkata)" in page.inner_text("#timeline-filters")

        page.click("text=Last hour")
        page.wait_for_load_state()
        assert page.locator("#timeline-results li.event").count() == 1
    finally:
        context.close()
