"""In a real browser, a right-to-left name on a timeline row is isolated: it takes its own
direction and cannot reorder the words after it (issue 13)."""

from __future__ import annotations

import pytest

from webapp.audit.commands import CreateRecord

pytestmark = pytest.mark.e2e

NAME = "\u05e9\u05dc\u05d5\u05dd 42"


def test_user_text_on_a_timeline_row_is_isolated(page, login, live_server, unique):
    live_server.run(CreateRecord("team", {"slug": f"rtl-{unique}", "name": f"{NAME} {unique}"}),
                    user="editor")
    login(page, "viewer")
    page.goto(f"{live_server.url}/timeline?entity=team")
    row = page.locator("ol.timeline > li.event").first
    row.get_by_test_id("open-diff").click()  # the diff opens in the row
    for selector in (".event-record", ".event-user", ".event-node", ".diff-value"):
        style = row.locator(selector).first.evaluate("e => getComputedStyle(e).unicodeBidi")
        assert style in ("isolate", "plaintext"), (selector, style)
