"""Lists as people read them: references as links titled by the referenced record
(deleted ones too), sortable columns that page, a result count with a "clear" link
after a search, and every field's value visible."""

from __future__ import annotations

import re
from html import unescape

import pytest

from webapp.audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from webapp.entities import listing


@pytest.fixture
def projects(run):
    red = run(CreateRecord("team", {"slug": "red", "name": "Red"})).record
    gone = run(CreateRecord("team", {"slug": "gone", "name": "Gone team"})).record
    made = [run(CreateRecord("project", {"name": name, "team_id": team["id"], "status": status,
                                         "budget": budget})).record
            for name, team, status, budget in (("Bravo", red, "active", "20k"),
                                               ("alpha", gone, "planned", None),
                                               ("Charlie", red, "done", "5k"))]
    return {"red": red, "gone": gone, "projects": made}


def _names(html):
    return re.findall(r'<td>\s*<a href="/e/project/[0-9A-Z]{26}">([^<]+)</a>', html)


def test_references_are_links_titled_by_their_record(client, login, projects):
    login("viewer")
    html = client.get("/e/project/").get_data(as_text=True)
    red = projects["red"]
    assert f'<a href="/e/team/{red["id"]}" class="ref-link">Red</a>' in html
    table = html[html.index('<table class="striped record-list">'):]
    assert red["id"] not in re.sub(r'href="[^"]+"', "", table)  # no raw id shown as text


def test_a_deleted_record_keeps_its_title_and_link_where_it_appears(client, login, run):
    old = run(CreateRecord("team", {"slug": "old", "name": "Old team"})).record
    new = run(CreateRecord("team", {"slug": "new", "name": "New team"})).record
    project = run(CreateRecord("project", {"name": "Mover", "team_id": old["id"],
                                           "status": "planned"})).record
    moved = run(UpdateRecord("project", project["id"], 1, {"team_id": new["id"]})).event
    run(DeleteRecord("team", old["id"], 1))
    login("viewer")
    page = client.get(f"/events/{moved.event_id}").get_data(as_text=True)
    assert f'<a class="diff-value ref-link" href="/e/team/{old["id"]}">Old team</a>' in page
    timeline = client.get("/timeline?entity=team&op=deleted").get_data(as_text=True)
    assert f'class="event-record deleted" href="/e/team/{old["id"]}"' in timeline
    assert client.get(f"/e/team/{old['id']}").status_code == 200  # the link leads somewhere


def test_columns_sort_both_ways_and_page(client, login, projects, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    login("viewer")
    html = client.get("/e/project/?sort=name").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    first = _names(html)
    next_url = unescape(re.search(r'href="([^"]+)"[^>]*rel="next"', html).group(1))
    assert "sort=name" in next_url
    everything = first + _names(client.get(next_url).get_data(as_text=True))
    assert sorted(everything) == sorted(["Bravo", "alpha", "Charlie"])
    assert everything == sorted(everything)  # the database's order, kept across pages
    down = client.get("/e/project/?sort=name&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in down and _names(down)[0] == everything[-1]
    budget = client.get("/e/project/?sort=budget").get_data(as_text=True)
    next_url = unescape(re.search(r'href="([^"]+)"[^>]*rel="next"', budget).group(1))
    assert _names(budget) + _names(client.get(next_url).get_data(as_text=True)) == \
        ["Bravo", "Charlie", "alpha"]  # "20k" < "5k" as text; the empty budget last
    assert client.get("/e/project/?sort=password").status_code == 400
    assert client.get("/e/user/?sort=password").status_code == 400  # secret: never sorted
    assert client.get("/e/project/?sort=name&dir=up").status_code == 400


def test_a_search_shows_its_count_and_a_clear_link(client, login, projects):
    login("viewer")
    html = client.get("/e/project/").get_data(as_text=True)
    assert re.search(r"3 projects\s*</p>", html) and "clear</a>" not in html
    found = client.get("/e/project/?q=char").get_data(as_text=True)
    assert "1 project matches “char”" in found
    assert '<a href="/e/project/" class="clear-link" data-testid="clear-search">clear</a>' in found
    none = client.get("/e/project/?q=zzz").get_data(as_text=True)
    assert "0 projects match “zzz”" in none


def test_every_field_is_visible_in_its_list(client, login, run):
    run(CreateRecord("setting", {"key": "mail.host", "value": "smtp.example.org\nport 25"}))
    login("viewer")
    html = client.get("/e/setting/").get_data(as_text=True)
    assert ">Value</a>" in html and "smtp.example.org …" in html
    users = client.get("/e/user/").get_data(as_text=True)
    assert ">Password</a>" not in users  # secret fields stay out
