"""The browser's Back button after a create: submitting the same form again repeats the
first command (the idempotency key lives in the form's URL, which Back returns to)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _create(page, unique: str) -> None:
    page.fill("#slug", f"back-{unique}")
    page.fill("#name", f"Back {unique}")
    page.click("button:has-text('Create')")
    page.wait_for_load_state()


def test_create_then_back_then_create_again_makes_one_record(page, login, live_server, unique):
    login(page, "editor")
    page.goto(live_server.url + "/e/team/")
    page.click("text=New team")
    page.wait_for_load_state()
    _create(page, unique)
    assert f"Team “Back {unique}” created." in page.inner_text(".flashes")
    first = page.url

    page.go_back()
    page.wait_for_load_state()
    _create(page, unique)
    assert page.url == first  # the first record's page, not a second record's
    assert "already submitted" in page.inner_text(".flashes")
    page.goto(f"{live_server.url}/e/team/?q=back-{unique}")
    assert page.locator("table.record-list tbody tr").count() == 1


def test_a_new_form_after_a_create_makes_a_second_record(page, login, live_server, unique):
    login(page, "editor")
    for n in (1, 2):
        page.goto(live_server.url + "/e/team/")
        page.click("text=New team")
        page.wait_for_load_state()
        page.fill("#slug", f"two-{n}-{unique}")
        page.fill("#name", f"Two {n} {unique}")
        page.click("button:has-text('Create')")
        page.wait_for_load_state()
        assert "created" in page.inner_text(".flashes")
    page.goto(f"{live_server.url}/e/team/?q={unique}")
    assert page.locator("table.record-list tbody tr").count() == 2
