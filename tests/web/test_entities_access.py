"""Who may do what: login on every route, roles checked on the server, bad URLs 404."""

from __future__ import annotations

import pytest

from tests.web.helpers import form_values, sqlite_app
from webapp.audit.commands import CreateRecord
from webapp.audit.ids import new_ulid

EDIT_ROUTES = ("new", "edit", "delete")
# Machine endpoints: node-to-node (peer signatures) and /api (API tokens): refused
# with 401, never sent to a login page.
MACHINE_APIS = ("sync.", "api.")


@pytest.fixture
def someone(run):
    return run(CreateRecord("user", {"username": "someone", "email": "s@example.org",
                                     "role": "viewer", "active": True})).record


def _url(route, entity, record_id):
    if route == "new":
        return f"/e/{entity}/new?key={new_ulid()}"
    return f"/e/{entity}/{record_id}/{route}"


def _build(rule, args):
    url = rule.rule
    for name, value in args.items():
        for pattern in (f"<{name}>", f"<int:{name}>", f"<string:{name}>", f"<path:{name}>"):
            url = url.replace(pattern, str(value))
    return url


def test_every_page_of_every_blueprint_sends_anonymous_visitors_to_login(
        app, client, team, csrf_token):
    """Walks the app's URL map, so routes added later (by any blueprint) are covered."""
    token = csrf_token("/login")
    values = {"entity": "team", "record_id": team["id"]}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.login", "auth.logout"):
            continue
        url = _build(rule, {n: values.get(n, new_ulid()) for n in rule.arguments})
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            checked += 1
            if rule.endpoint.startswith(MACHINE_APIS):
                # Peers and scripts authenticate instead of logging in: refused, not redirected.
                assert response.status_code in (400, 401, 403), (method, url)
                continue
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), (method, url)
    assert checked >= 7


@pytest.mark.parametrize("entity", ["team", "project", "setting", "user"])
@pytest.mark.parametrize("route", EDIT_ROUTES)
def test_viewer_is_refused_every_edit_route(client, login, csrf_token, event_count,
                                            team, entity, route):
    login("viewer")
    url = _url(route, entity, team["id"])
    before = event_count()
    assert client.get(url).status_code == 403
    response = client.post(url, data={"csrf_token": csrf_token("/"), "f_name": "X"})
    assert response.status_code == 403
    assert event_count() == before


@pytest.mark.parametrize("route", EDIT_ROUTES)
def test_editor_cannot_manage_accounts(client, login, csrf_token, event_count, someone, route):
    login("editor")
    url = _url(route, "user", someone["id"])
    before = event_count()
    assert client.get(url).status_code == 403
    assert client.post(url, data={"csrf_token": csrf_token("/")}).status_code == 403
    assert event_count() == before


@pytest.mark.parametrize("route", EDIT_ROUTES)
def test_editor_may_open_every_edit_form_of_ordinary_entities(client, login, team, route):
    login("editor")
    assert client.get(_url(route, "team", team["id"])).status_code == 200


@pytest.mark.parametrize("route", EDIT_ROUTES)
def test_admin_may_manage_accounts(client, login, someone, route):
    login("admin")
    assert client.get(_url(route, "user", someone["id"])).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_reads_lists_and_the_dashboard(client, login, role):
    login(role)
    assert client.get("/").status_code == 200
    for entity in ("user", "team", "project", "setting"):
        assert client.get(f"/e/{entity}/").status_code == 200


def test_viewer_sees_no_edit_buttons(client, login, team):
    login("viewer")
    html = client.get("/e/team/").get_data(as_text=True)
    assert "/e/team/new" not in html and "/edit" not in html


@pytest.mark.parametrize("url", [
    "/e/nope/", "/e/nope/new", "/e/Team/",
    "/e/team/not-a-ulid/edit", "/e/team/01ARZ3NDEKTSV4RRFFQ69G5FAV/edit",
    "/e/team/01ARZ3NDEKTSV4RRFFQ69G5FAV/delete", "/e/team/%3Cscript%3E/edit",
    "/e/" + "x" * 500 + "/",
])
def test_bad_urls_are_404_with_a_page(client, login, url):
    login("admin")
    response = client.get(url)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Not found" in html and "<script>" not in html


@pytest.mark.parametrize("url, reason", [
    ("/e/user/?after=nope", "bad &#39;after&#39; cursor"),
    ("/e/user/?role=emperor", "Role: &#39;emperor&#39; is not a value to filter by"),
    ("/e/user/?active=maybe", "Can log in: &#39;maybe&#39; is not a value to filter by"),
    ("/e/project/?team_id=nope", "Team: &#39;nope&#39; is not a value to filter by"),
])
def test_a_bad_list_cursor_or_filter_is_a_400_with_a_reason(client, login, url, reason):
    login("viewer")
    response = client.get(url)
    assert response.status_code == 400 and reason in response.get_data(as_text=True)


@pytest.mark.parametrize("route", ["edit", "delete"])
def test_posting_to_a_record_that_never_existed_is_a_404_and_writes_nothing(
        client, login, event_count, team, route):
    login("editor")
    form = form_values(client.get(f"/e/team/{team['id']}/{route}").get_data(as_text=True),
                       f"/{route}")
    before = event_count()
    response = client.post(f"/e/team/{new_ulid()}/{route}", data=form)
    assert response.status_code == 404 and "no team with id" in response.get_data(as_text=True)
    assert event_count() == before


def test_htmx_errors_get_a_short_fragment(client, login):
    login("viewer")
    response = client.get("/e/nope/", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" not in html and "error-fragment" in html


def test_unexpected_errors_get_the_500_page_without_details(tmp_path):
    def broken():
        raise RuntimeError("secret internals")

    with sqlite_app(tmp_path / "e.sqlite3", PROPAGATE_EXCEPTIONS=False) as app:
        app.add_url_rule("/boom", "boom", broken)
        response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html and "secret internals" not in html


def test_request_id_is_taken_from_the_caller_or_made_and_echoed(client, login):
    login("viewer")
    assert client.get("/", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert made != "bad id <script>" and len(made) == 26


@pytest.mark.parametrize("tampered", [
    {"expected_version": "one"}, {"expected_version": ""}, {"idempotency_key": "k" * 101},
    {"idempotency_key": ""},
])
def test_tampered_hidden_fields_are_refused_and_write_nothing(client, login, event_count,
                                                             team, tampered):
    login("editor")
    form = form_values(client.get(f"/e/team/{team['id']}/edit").get_data(as_text=True), "/edit")
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/edit", data={**form, "name": "T", **tampered})
    assert response.status_code == 422
    assert "Reload the page" in response.get_data(as_text=True)
    assert event_count() == before


def test_a_negative_version_is_refused_and_writes_nothing(client, login, event_count, team):
    login("editor")
    form = form_values(client.get(f"/e/team/{team['id']}/edit").get_data(as_text=True), "/edit")
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/edit",
                           data={**form, "name": "T", "expected_version": "-1"})
    assert response.status_code == 422
    assert "version: must be a whole number" in response.get_data(as_text=True)
    assert event_count() == before


@pytest.mark.parametrize("tampered", [
    {"expected_version": "one"}, {"expected_version": ""}, {"idempotency_key": ""},
])
def test_an_incomplete_delete_confirmation_is_refused_and_writes_nothing(
        client, login, event_count, team, tampered):
    login("editor")
    page = client.get(f"/e/team/{team['id']}/delete").get_data(as_text=True)
    before = event_count()
    response = client.post(f"/e/team/{team['id']}/delete",
                           data={**form_values(page, "/delete"), **tampered})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "confirmation was incomplete" in html
    assert form_values(html, "/delete")["expected_version"] == "1"  # a fresh form to confirm
    assert event_count() == before
