"""The dense timeline: one row per event (when, who, what, record, fields, summary), the
diff on demand in place (HTMX) or on the event page (plain link), internals only on the
event page, which links the previous and next change of the same record."""

from __future__ import annotations

import re

from tests.web.entity_helpers import last_event, new_form
from tests.web.timeline_helpers import event_ids
from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord

TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_a_row_names_the_fields_and_sums_up_the_change(client, login, run):
    team = run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    run(UpdateRecord("team", team["id"], 1, {"name": "Red Team", "description": "a\nb"}))
    login("viewer")
    html = client.get("/timeline?entity=team").get_data(as_text=True)
    row = html[html.index('<li class="event event-dense event-updated"'):]
    row = row[:row.index("</li>")]
    assert '<span class="event-fields" title="Fields changed">Name, Description</span>' in row
    assert "Name: Red → Red Team; Description: (empty) → a…" in row
    assert '<a class="event-record" href="/e/team/' in row and ">Red Team</a>" in row
    assert 'data-testid="open-diff"' in row and f'/events/{event_ids(html)[0]}#diff' in row
    assert "created “Red”" in html


def test_internals_stay_on_the_event_page(app, client, login):
    login("editor")
    client.post("/e/team/new", data={**new_form(client), "slug": "in", "name": "In"},
                headers={"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"})
    event = last_event(app)
    assert event.trace_id == TRACE and event.request_id
    html = client.get("/timeline").get_data(as_text=True)
    assert event_ids(html)[0] == event.event_id
    for internal in (TRACE, event.request_id, event.session_id, event.idempotency_key):
        assert not internal or internal not in html
    assert "<code" not in html[html.index('<ol class="timeline'):]
    page = client.get(f"/events/{event.event_id}").get_data(as_text=True)
    assert TRACE in page and event.request_id in page and "Version vector after" in page


def test_the_diff_opens_in_place_for_htmx_and_as_the_event_page_without(client, login, run):
    team = run(CreateRecord("team", {"slug": "d", "name": "Before"})).record
    updated = run(UpdateRecord("team", team["id"], 1, {"name": "After"})).event
    login("viewer")
    fragment = client.get(f"/events/{updated.event_id}/diff", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    opened = f'<details class="event-diff event-diff-open" id="diff-{updated.event_id}" open>'
    assert body.strip().startswith(opened)
    assert '<del><span class="diff-value">Before</span></del>' in body
    assert '<ins><span class="diff-value">After</span></ins>' in body
    plain = client.get(f"/events/{updated.event_id}/diff")
    assert plain.status_code == 302
    assert plain.headers["Location"] == f"/events/{updated.event_id}#diff"
    assert client.get("/events/NOPE/diff", headers={"HX-Request": "true"}).status_code == 404


def test_the_event_page_links_the_previous_and_next_change_of_the_record(client, login, run):
    team = run(CreateRecord("team", {"slug": "n", "name": "N1"}))
    other = run(CreateRecord("team", {"slug": "o", "name": "O"}))
    second = run(UpdateRecord("team", team.record["id"], 1, {"name": "N2"}))
    run(UpdateRecord("team", other.record["id"], 1, {"name": "O2"}))
    third = run(DeleteRecord("team", team.record["id"], 2))
    login("viewer")

    def steps(event_id):
        html = client.get(f"/events/{event_id}").get_data(as_text=True)
        prev = re.search(r'href="/events/([0-9A-Z]{26})" rel="prev"', html)
        nxt = re.search(r'href="/events/([0-9A-Z]{26})" rel="next"', html)
        return (prev.group(1) if prev else None), (nxt.group(1) if nxt else None), html

    first_id, second_id, third_id = (team.event.event_id, second.event.event_id,
                                     third.event.event_id)
    prev, nxt, html = steps(first_id)
    assert (prev, nxt) == (None, second_id) and "First change of this record" in html
    assert steps(second_id)[:2] == (first_id, third_id)
    prev, nxt, html = steps(third_id)
    assert (prev, nxt) == (second_id, None) and "Latest change of this record" in html
