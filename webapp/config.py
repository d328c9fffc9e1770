"""Configuration from the environment. Nothing secret has a default in the code."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .audit.db import normalise_url
from .audit.node import clean_node_name
from .zones import clean_zone


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


def _checked(name: str, default: str, clean: Callable[[str], Any]) -> Any:
    """A variable's value through `clean`, refused at start with the variable's name
    (not on the first request that needs it)."""
    try:
        return clean(os.environ.get(name, default))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _milliseconds(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,12}", text.strip()):
        raise ValueError(f"must be a whole number of milliseconds, 0 or more, got {text[:40]!r}")
    return int(text)


def _positive(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or int(text) < 1:
        raise ValueError(f"must be a whole number of 1 or more, got {text[:40]!r}")
    return int(text)


def _flag(text: str) -> bool | None:
    if text.strip() not in ("", "0", "1"):
        raise ValueError(f"must be 1 or 0 (or unset), got {text[:40]!r}")
    return None if not text.strip() else text.strip() == "1"


def _hops(text: str) -> int:
    if not re.fullmatch(r"[0-9]", text.strip()):
        raise ValueError(f"must be a number of proxies from 0 to 9, got {text[:40]!r}")
    return int(text)


def from_environment(instance: Path) -> dict[str, Any]:
    env = os.environ
    default_db = f"sqlite:///{instance / 'hindsight.sqlite3'}"
    url = normalise_url(env.get("HINDSIGHT_DATABASE_URL", default_db))
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": url,
        "HINDSIGHT_NODE_NAME": _checked("HINDSIGHT_NODE_NAME", "local", clean_node_name),
        "HINDSIGHT_MAX_DRIFT_MS": _checked("HINDSIGHT_MAX_DRIFT_MS", "60000", _milliseconds),
        # Failed logins allowed per username and address in the window (webapp/auth/throttle.py)
        "HINDSIGHT_LOGIN_FAILURES": _checked("HINDSIGHT_LOGIN_FAILURES", "5", _positive),
        "HINDSIGHT_LOGIN_WINDOW_S": _checked("HINDSIGHT_LOGIN_WINDOW_S", "900", _positive),
        # Sign-in sessions end after this long without a request, and this long after login.
        "HINDSIGHT_SESSION_IDLE_S": _checked("HINDSIGHT_SESSION_IDLE_S", "1800", _positive),
        "HINDSIGHT_SESSION_MAX_S": _checked("HINDSIGHT_SESSION_MAX_S", "43200", _positive),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted: the
        # client address on audit events and in login throttling comes from them.
        "HINDSIGHT_PROXY_HOPS": _checked("HINDSIGHT_PROXY_HOPS", "0", _hops),
        # The admins' time zone: DateTime fields are typed and shown in it (zones.py).
        "HINDSIGHT_TIMEZONE": _checked("HINDSIGHT_TIMEZONE", "UTC", clean_zone),
        # This node's private Ed25519 key (webapp/nodekey.py): 64 hex digits here, or
        # a PEM file of mode 0600 (default instance/node_key.pem).
        "HINDSIGHT_NODE_KEY": env.get("HINDSIGHT_NODE_KEY") or None,
        "HINDSIGHT_NODE_KEY_FILE": env.get("HINDSIGHT_NODE_KEY_FILE") or None,
        # Where `flask audit snapshot` writes, and peers fetch the latest from.
        "HINDSIGHT_SNAPSHOT_DIR": env.get("HINDSIGHT_SNAPSHOT_DIR") or str(instance / "snapshots"),
        # Days of log kept whatever peers acknowledged (`flask audit compact`); off unless set.
        "HINDSIGHT_RETENTION_DAYS": (_checked("HINDSIGHT_RETENTION_DAYS", "", _positive)
                                     if env.get("HINDSIGHT_RETENTION_DAYS") else None),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies: 1 or 0; unset, on except under tests, debug and `flask run`
        # (webapp/security.py sets SESSION_COOKIE_SECURE from it).
        "HINDSIGHT_SECURE_COOKIES": _checked("HINDSIGHT_SECURE_COOKIES", "", _flag),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    }
