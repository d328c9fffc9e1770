"""HTMX on the timeline: the filter form gets the results block and a clean URL to push,
the scroll sentinel gets the next rows, a history restore gets the whole page."""

from __future__ import annotations

import pytest

from tests.web.timeline_helpers import all_events, event_ids, next_link
from webapp.audit.commands import CreateRecord

HX = {"HX-Request": "true"}


@pytest.fixture
def teams(run):
    return [run(CreateRecord("team", {"slug": f"t{n}", "name": f"Team {n}"})).record
            for n in range(5)]


def test_filter_form_is_a_plain_get_form_enhanced_by_htmx(client, login, teams):
    login("viewer")
    html = client.get("/timeline").get_data(as_text=True)
    form = html[html.index('<form id="timeline-filters"'):]
    form = form[:form.index(">")]
    assert 'method="get"' in form and 'action="/timeline"' in form
    assert 'hx-get="/timeline"' in form and 'hx-target="#timeline-results"' in form
    assert 'hx-push-url="true"' in form


def test_filtering_with_htmx_returns_only_the_results_block(app, client, login, teams):
    login("viewer")
    response = client.get("/timeline?entity=team&op=&user=&from=&to=",
                          headers={**HX, "HX-Target": "timeline-results"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="timeline-results"')
    assert "<html" not in html and "timeline-filters" not in html
    assert event_ids(html) == [e.event_id for e in all_events(app, entity="team")]
    assert response.headers["HX-Push-Url"] == "/timeline?entity=team"  # no empty fields
    assert "HX-Request" in response.headers["Vary"]


def test_scroll_sentinel_loads_the_next_rows_and_a_new_sentinel(app, client, login, teams):
    app.config["HINDSIGHT_TIMELINE_PAGE_SIZE"] = 2
    login("viewer")
    first = client.get("/timeline?entity=team").get_data(as_text=True)
    sentinel = first[first.index('<li class="timeline-more"'):]
    assert 'hx-trigger="revealed"' in sentinel and 'hx-swap="outerHTML"' in sentinel
    more = client.get(next_link(first), headers={**HX, "HX-Target": "timeline-more"})
    html = more.get_data(as_text=True)
    assert html.lstrip().startswith("<li") and "<section" not in html and "<ol" not in html
    expected = [e.event_id for e in all_events(app, entity="team")]
    assert event_ids(first) + event_ids(html) == expected[:4]
    assert 'id="timeline-more"' in html and "HX-Push-Url" not in more.headers


def test_history_restore_gets_the_whole_page(client, login, teams):
    login("viewer")
    response = client.get("/timeline?entity=team", headers={
        **HX, "HX-Target": "timeline-results", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_bad_filter_with_htmx_gets_400_and_the_reason_in_the_results_block(client, login):
    login("viewer")
    response = client.get("/timeline?from=soon", headers={**HX, "HX-Target": "timeline-results"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.lstrip().startswith('<section id="timeline-results"')
    assert "is not a date or time" in html
    assert 'class="error-fragment"' in html  # what static/js/app.js swaps in despite the 400
    assert response.headers["HX-Push-Url"] == "false"  # a bad filter stays out of history
