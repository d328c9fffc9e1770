"""Headers on every route (CSP, no caching of signed-in pages, HSTS over HTTPS), Secure
cookies by default outside development, and only the static files the pages use."""

from __future__ import annotations

import re

import pytest

from webapp import create_app


def _get_routes(app):
    """Every GET route that takes no argument, but static files and logout."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments
                  and rule.endpoint not in ("static",))


def test_every_route_carries_the_headers_and_is_never_cached(app, client, login):
    login("admin")
    routes = _get_routes(app)
    assert "/timeline" in routes and "/nodes" in routes and "/login" in routes
    for route in routes:
        response = client.get(route)
        assert response.status_code < 500, route
        assert response.headers["Cache-Control"] == "no-store", route
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], route
        assert response.headers["X-Content-Type-Options"] == "nosniff", route
        assert "Strict-Transport-Security" not in response.headers, route  # plain HTTP


def test_over_https_every_route_says_to_stay_on_https(app, client, accounts):
    for route in _get_routes(app):
        response = client.get(route, base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000"), route


@pytest.mark.parametrize("config, environ, secure", [
    ({}, {}, True),  # production (gunicorn): Secure
    ({"TESTING": True}, {}, False),
    ({}, {"FLASK_RUN_FROM_CLI": "true"}, False),  # `flask run`, the development server
    ({"DEBUG": True}, {}, False),
    ({"TESTING": True, "HINDSIGHT_SECURE_COOKIES": True}, {}, True),  # the setting wins
    ({}, {"HINDSIGHT_SECURE_COOKIES": "0"}, False),
])
def test_cookies_are_secure_by_default_outside_development(tmp_path, monkeypatch, config,
                                                           environ, secure):
    monkeypatch.setenv("HINDSIGHT_SECRET_KEY", "k")
    for name in ("FLASK_RUN_FROM_CLI", "HINDSIGHT_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite3'}",
                      **config})
    assert app.config["SESSION_COOKIE_SECURE"] is app.config["REMEMBER_COOKIE_SECURE"] is secure


@pytest.mark.parametrize("path", [
    "package-lock.json", "package.json", "node_modules/.installed",
    "node_modules/htmx.org/package.json", "node_modules/htmx.org/dist/htmx.js",
    "node_modules/.package-lock.json", "css/../package-lock.json", "js/../package.json",
    "css/%2e%2e/package.json",
])
def test_static_serves_no_package_metadata_or_unused_modules(client, path):
    response = client.get(f"/static/{path}")
    assert response.status_code == 404, path
    response.close()


def test_every_static_file_a_page_links_is_served(client):
    html = client.get("/login").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"?]+)', html)
    assert any("node_modules" in link for link in links) and len(links) >= 4
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        response.close()
