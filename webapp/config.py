"""Configuration from the environment. Nothing secret has a default in the code."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from .audit.db import normalise_url


def _secret_key(instance: Path) -> str:
    """HINDSIGHT_SECRET_KEY, or a random key kept in the instance folder (mode 0600),
    created on first start so that a dev run needs no set-up and no key is in the repo."""
    if os.environ.get("HINDSIGHT_SECRET_KEY"):
        return os.environ["HINDSIGHT_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(instance: Path) -> dict[str, Any]:
    env = os.environ
    default_db = f"sqlite:///{instance / 'hindsight.sqlite3'}"
    url = normalise_url(env.get("HINDSIGHT_DATABASE_URL", default_db))
    secure = env.get("HINDSIGHT_SECURE_COOKIES", "0") == "1"
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": url,
        "HINDSIGHT_NODE_NAME": env.get("HINDSIGHT_NODE_NAME", "local"),
        "HINDSIGHT_MAX_DRIFT_MS": int(env.get("HINDSIGHT_MAX_DRIFT_MS", "60000")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    }
