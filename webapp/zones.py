"""The admin's time zone (HINDSIGHT_TIMEZONE, an IANA name; default UTC): DateTime
fields are stored in UTC and shown and typed in this zone."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

from .audit.fields import moment_text

_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?")


def clean_zone(name: str) -> str:
    """Checked at start-up (config.py): a zone that does not exist is refused by name."""
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name[:60]!r} is not a known time zone (e.g. Europe/Paris, UTC)") \
            from None
    return name.strip()


def admin_zone() -> ZoneInfo:
    name = current_app.config.get("HINDSIGHT_TIMEZONE", "UTC") if has_app_context() else "UTC"
    return ZoneInfo(name)


def to_local(utc_text: str) -> str:
    """A stored "YYYY-MM-DDTHH:MM:SSZ" as a datetime-local input's value in the zone."""
    moment = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    return moment.astimezone(admin_zone()).replace(tzinfo=None).isoformat(timespec="seconds")


def to_utc(local_text: str) -> str:
    """A datetime-local input's value, typed in the zone, as UTC text for the core.
    Anything else is passed on unchanged, for the core to refuse with its message."""
    text = local_text.strip()
    if not _LOCAL.fullmatch(text):
        return local_text
    try:
        moment = dt.datetime.fromisoformat(text).replace(tzinfo=admin_zone())
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    except (ValueError, OverflowError):
        return local_text


def shown(utc_text: str) -> str:
    """A stored moment as people in the zone read it: "2026-12-07 11:30:00 CET"."""
    return moment_text(utc_text, admin_zone())
