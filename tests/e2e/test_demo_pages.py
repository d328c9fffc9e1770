"""The seeded demo in Chromium, as a newcomer first sees it: the home page's charts
(drawn, with their text alternatives), the conflicts badge in the nav, the dense
timeline with a diff opened, and the conflicts page. Run with HINDSIGHT_SCREENSHOTS=DIR
(`make screenshots` writes docs/screenshots/) it saves the README's screenshots, so they
always show the current pages."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.e2e.conftest import LiveServer
from tests.web.helpers import sqlite_app
from webapp import demo, demostory
from webapp.audit.hlc import wall_ms
from webapp.extensions import db
from webapp.runtime import auditor
from webapp.sync.service import replicator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    with sqlite_app(path, TESTING=False) as app:
        with app.app_context():
            seeder = demo.Seeder(auditor(), db.session())
            admin, password = demo.create_admin(seeder)
            demostory.seed_story(db.session(), replicator(), wall_ms(), lambda _: None)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        live = LiveServer(f"http://127.0.0.1:{server.server_port}", app,
                          {"admin": password}, {"admin": admin["id"]})
        yield live
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("HINDSIGHT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def _login(page, server: LiveServer) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", "admin")
    page.fill("#password", server.passwords["admin"])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(server.url + "/")


def test_the_home_page_answers_what_changed_and_what_waits(browser, demo_server):
    context = browser.new_context(viewport={"width": 1280, "height": 1100},
                                  color_scheme="light")
    try:
        page = context.new_page()
        _login(page, demo_server)
        chart = page.locator("svg[data-testid=chart-activity]")
        assert chart.get_attribute("role") == "img"
        title = page.locator("#chart-activity-title").text_content()
        assert title == "Events, last 14 days, per day"
        bars = chart.locator("rect.chart-bar")
        assert bars.count() == 14
        heights = [float(bars.nth(n).get_attribute("height")) for n in range(14)]
        assert sum(h > 0 for h in heights) >= 8  # weeks of history, not one day
        assert chart.bounding_box()["height"] > 100  # drawn, not collapsed
        assert "events in all" in page.locator("#chart-activity-desc").text_content()
        assert page.locator("figure.chart-bars figcaption").nth(1).inner_text().startswith(
            "By user: ")
        assert page.locator("[data-testid=nav-conflicts]").inner_text() == "1"
        assert page.locator("[data-testid=home-conflicts] .count").inner_text() == "1"
        _shot(page, "home")
        # Dark mode: the same chart, coloured from the theme (bars differ from the page).
        dark = browser.new_context(viewport={"width": 1280, "height": 1100},
                                   color_scheme="dark")
        try:
            other = dark.new_page()
            _login(other, demo_server)
            fill = other.locator("rect.chart-bar").first.evaluate(
                "e => getComputedStyle(e).fill")
            background = other.evaluate("getComputedStyle(document.body).backgroundColor")
            assert fill != background
            _shot(other, "home-dark")
        finally:
            dark.close()
    finally:
        context.close()


def test_the_timeline_diff_and_conflicts_pages(browser, demo_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        _login(page, demo_server)
        page.goto(demo_server.url + "/timeline?entity=project&op=updated")
        rows = page.locator("li.event-dense")
        assert rows.count() >= 20
        rows.nth(1).locator("[data-testid=open-diff]").click()
        rows.nth(1).locator("details.event-diff ins").first.wait_for()
        _shot(page, "timeline")
        page.goto(demo_server.url + "/timeline?entity=setting&op=updated")
        page.locator("li.event-dense .event-time").first.click()
        page.wait_for_load_state()
        assert "What changed" in page.inner_text("main")
        _shot(page, "diff")
        page.goto(demo_server.url + "/conflicts")
        assert page.locator("main").inner_text().count("Design") >= 1
        _shot(page, "conflicts")
    finally:
        context.close()
