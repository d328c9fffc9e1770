"""Entity lists: search, filters and keyset pages; HTMX gets only the results block."""

from __future__ import annotations

import re

import pytest

from webapp.audit.commands import CreateRecord
from webapp.entities.listing import PAGE_SIZE


@pytest.fixture
def settings(run):
    for n in range(PAGE_SIZE + 5):
        run(CreateRecord("setting", {"key": f"app.key_{n:02d}", "value": f"value {n}"}))


def _keys(html):
    return re.findall(r"app\.key_\d\d", html)


def test_list_pages_by_keyset_newest_first(client, login, settings):
    login("viewer")
    html = client.get("/e/setting/").get_data(as_text=True)
    first = _keys(html)
    assert len(first) == PAGE_SIZE and first[0] == f"app.key_{PAGE_SIZE + 4:02d}"
    next_url = re.search(r'href="(/e/setting/\?after=[0-9A-Z]{26})"', html).group(1)
    second = _keys(client.get(next_url).get_data(as_text=True))
    assert len(second) == 5 and second[-1] == "app.key_00"
    assert not set(first) & set(second)


def test_htmx_search_gets_only_the_results_block(client, login, settings):
    login("viewer")
    response = client.get("/e/setting/?q=KEY_07", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<nav" in html  # the pager, not the site nav
    assert _keys(html) == ["app.key_07"]
    assert "HX-Request" in response.headers["Vary"]


def test_without_javascript_search_is_a_full_page_with_the_query_kept(client, login, settings):
    login("viewer")
    html = client.get("/e/setting/?q=key_07").get_data(as_text=True)
    assert "<html" in html and 'value="key_07"' in html
    assert _keys(html) == ["app.key_07"]


def test_history_restore_gets_the_whole_page(client, login, settings):
    login("viewer")
    html = client.get("/e/setting/", headers={"HX-Request": "true",
                                              "HX-History-Restore-Request": "true"})
    assert "<html" in html.get_data(as_text=True)


def test_search_and_paging_links_carry_htmx_attributes_and_plain_hrefs(client, login, settings):
    login("viewer")
    html = client.get("/e/setting/").get_data(as_text=True)
    assert 'hx-get="/e/setting/"' in html and 'hx-target="#results"' in html
    assert 'hx-push-url="true"' in html
    link = re.search(r'<a href="([^"]+)" hx-get="([^"]+)"[^>]*rel="next"', html)
    assert link and link.group(1) == link.group(2)


def test_filters_combine_with_search(client, login, run):
    run(CreateRecord("user", {"username": "ann", "email": "ann@example.org",
                              "role": "editor", "active": True}))
    run(CreateRecord("user", {"username": "anna", "email": "anna@example.org",
                              "role": "viewer", "active": False}))
    login("viewer")
    html = client.get("/e/user/?q=ann&role=editor").get_data(as_text=True)
    assert "ann@example.org" in html and "anna@example.org" not in html
    html = client.get("/e/user/?q=ann&active=0").get_data(as_text=True)
    assert "anna@example.org" in html and "ann@example.org" not in html
    assert '<option value="0" selected' in html


def test_reference_filter_and_titles(client, login, run):
    red = run(CreateRecord("team", {"slug": "red", "name": "Red team"})).record
    blue = run(CreateRecord("team", {"slug": "blue", "name": "Blue team"})).record
    run(CreateRecord("project", {"name": "Apollo", "team_id": red["id"], "status": "active"}))
    run(CreateRecord("project", {"name": "Gemini", "team_id": blue["id"], "status": "done"}))
    login("viewer")
    html = client.get(f"/e/project/?team_id={red['id']}").get_data(as_text=True)
    assert "Apollo" in html and "Gemini" not in html
    assert "Red team" in html  # the reference shows its title, not its id


def test_empty_states(client, login, run):
    login("editor")
    html = client.get("/e/setting/").get_data(as_text=True)
    assert "No settings yet" in html and "Create the first one" in html
    html = client.get("/e/setting/?q=zzz").get_data(as_text=True)
    assert "No settings match" in html


def test_search_with_like_wildcards_is_literal(client, login, settings):
    login("viewer")
    assert _keys(client.get("/e/setting/?q=%25").get_data(as_text=True)) == []
    assert _keys(client.get("/e/setting/?q=_").get_data(as_text=True))  # keys hold "_"
