"""Configuration from the environment: defaults, a secret key kept out of the repo, and
bad values refused at start with the variable's name. Plus the headers on every page."""

from __future__ import annotations

import stat

import pytest

from webapp import create_app
from webapp.config import from_environment

VARIABLES = ("HINDSIGHT_DATABASE_URL", "HINDSIGHT_SECRET_KEY", "HINDSIGHT_NODE_NAME",
             "HINDSIGHT_MAX_DRIFT_MS", "HINDSIGHT_SECURE_COOKIES", "HINDSIGHT_LOGIN_FAILURES",
             "HINDSIGHT_LOGIN_WINDOW_S", "HINDSIGHT_PROXY_HOPS", "HINDSIGHT_SESSION_IDLE_S",
             "HINDSIGHT_SESSION_MAX_S")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_no_set_up_and_keep_one_secret_key_private(tmp_path):
    config = from_environment(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'hindsight.sqlite3'}"
    assert (config["HINDSIGHT_NODE_NAME"], config["HINDSIGHT_MAX_DRIFT_MS"]) == ("local", 60_000)
    assert config["HINDSIGHT_SECURE_COOKIES"] is None and len(config["SECRET_KEY"]) == 64
    assert (config["HINDSIGHT_LOGIN_FAILURES"], config["HINDSIGHT_LOGIN_WINDOW_S"]) == (5, 900)
    assert config["HINDSIGHT_PROXY_HOPS"] == 0
    assert (config["HINDSIGHT_SESSION_IDLE_S"], config["HINDSIGHT_SESSION_MAX_S"]) == (1800, 43200)
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert from_environment(tmp_path)["SECRET_KEY"] == config["SECRET_KEY"]  # kept


def test_values_from_the_environment_are_used_and_tidied(tmp_path, monkeypatch):
    monkeypatch.setenv("HINDSIGHT_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", "postgresql://hs@db.example/hindsight")
    monkeypatch.setenv("HINDSIGHT_NODE_NAME", "  east  ")
    monkeypatch.setenv("HINDSIGHT_MAX_DRIFT_MS", " 5000 ")
    monkeypatch.setenv("HINDSIGHT_SECURE_COOKIES", "1")
    monkeypatch.setenv("HINDSIGHT_LOGIN_FAILURES", "10")
    monkeypatch.setenv("HINDSIGHT_LOGIN_WINDOW_S", "60")
    config = from_environment(tmp_path)
    assert (config["HINDSIGHT_LOGIN_FAILURES"], config["HINDSIGHT_LOGIN_WINDOW_S"]) == (10, 60)
    assert config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://hs@db.example/hindsight"
    assert (config["HINDSIGHT_NODE_NAME"], config["HINDSIGHT_MAX_DRIFT_MS"]) == ("east", 5000)
    assert config["HINDSIGHT_SECURE_COOKIES"] is True


@pytest.mark.parametrize("name, value", [
    ("HINDSIGHT_MAX_DRIFT_MS", "soon"), ("HINDSIGHT_MAX_DRIFT_MS", "-5"),
    ("HINDSIGHT_MAX_DRIFT_MS", "1.5"), ("HINDSIGHT_MAX_DRIFT_MS", ""),
    ("HINDSIGHT_MAX_DRIFT_MS", "١٢"), ("HINDSIGHT_MAX_DRIFT_MS", "9" * 13),
    ("HINDSIGHT_NODE_NAME", ""), ("HINDSIGHT_NODE_NAME", "   "), ("HINDSIGHT_NODE_NAME", "n" * 101),
    ("HINDSIGHT_LOGIN_FAILURES", "0"), ("HINDSIGHT_LOGIN_FAILURES", "many"),
    ("HINDSIGHT_LOGIN_WINDOW_S", "-60"), ("HINDSIGHT_LOGIN_WINDOW_S", "9" * 10),
    ("HINDSIGHT_PROXY_HOPS", "-1"), ("HINDSIGHT_PROXY_HOPS", "10"), ("HINDSIGHT_PROXY_HOPS", "yes"),
    ("HINDSIGHT_TIMEZONE", "Mars/Olympus"), ("HINDSIGHT_TIMEZONE", "../../etc/passwd"),
    ("HINDSIGHT_TIMEZONE", ""),
    ("HINDSIGHT_SECURE_COOKIES", "yes"), ("HINDSIGHT_SECURE_COOKIES", "true"),
    ("HINDSIGHT_SESSION_IDLE_S", "0"), ("HINDSIGHT_SESSION_MAX_S", "forever"),
    ("HINDSIGHT_RETENTION_DAYS", "0"), ("HINDSIGHT_RETENTION_DAYS", "a year"),
])
def test_a_bad_value_is_refused_at_start_naming_the_variable(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"^{name}: "):
        from_environment(tmp_path)


def test_retention_is_off_unless_set(tmp_path, monkeypatch):
    monkeypatch.delenv("HINDSIGHT_RETENTION_DAYS", raising=False)
    assert from_environment(tmp_path)["HINDSIGHT_RETENTION_DAYS"] is None
    monkeypatch.setenv("HINDSIGHT_RETENTION_DAYS", "30")
    assert from_environment(tmp_path)["HINDSIGHT_RETENTION_DAYS"] == 30


def test_every_response_carries_the_security_headers(tmp_path, monkeypatch):
    monkeypatch.setenv("HINDSIGHT_SECRET_KEY", "k")  # no key file in the instance folder
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite3'}"})
    response = app.test_client().get("/static/css/app.css")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    response.close()
