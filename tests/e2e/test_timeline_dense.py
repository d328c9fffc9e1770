"""The dense timeline in Chromium: a row's diff opens in place with HTMX (no page load)
and toggles closed; without JavaScript the same link opens the event page's diff."""

from __future__ import annotations

import pytest

from webapp.audit.commands import CreateRecord, UpdateRecord

pytestmark = pytest.mark.e2e


@pytest.fixture
def changed_team(live_server, unique):
    team = live_server.run(CreateRecord("team", {"slug": f"dn-{unique}",
                                                 "name": f"Old {unique}"})).record
    return live_server.run(UpdateRecord("team", team["id"], 1,
                                        {"name": f"New {unique}"})).event


def test_a_diff_opens_in_place_with_javascript(page, login, live_server, changed_team, unique):
    login(page, "viewer")
    page.goto(f"{live_server.url}/timeline?record={changed_team.record_id}")
    page.evaluate("window.__stay = 'here'")
    row = page.locator(f"#event-{changed_team.event_id}")
    assert row.locator(".event-fields").inner_text() == "Name"
    assert row.locator(".event-summary").inner_text() == f"Name: Old {unique} → New {unique}"
    row.locator("[data-testid=open-diff]").click()
    details = row.locator("details.event-diff")
    expect_text = details.locator("ins").inner_text()
    assert expect_text == f"New {unique}"
    assert details.locator("del").inner_text() == f"Old {unique}"
    assert page.evaluate("window.__stay") == "here"  # in place: no page load
    details.locator("summary").click()  # closes without script
    assert details.get_attribute("open") is None


def test_without_javascript_the_diff_link_opens_the_event_page(browser, login, live_server,
                                                               changed_team, unique):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = login(context.new_page(), "viewer")
        page.goto(f"{live_server.url}/timeline?record={changed_team.record_id}")
        page.locator(f"#event-{changed_team.event_id} [data-testid=open-diff]").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/events/{changed_team.event_id}#diff")
        assert page.locator("#diff ins").first.inner_text() == f"New {unique}"
    finally:
        context.close()
