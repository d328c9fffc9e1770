"""What every template can use: the nav's entities and endpoints, role checks, and
HLC/record times as datetimes (rendered by the `when` macro in _partials/time.html)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, request

from .audit.hlc import to_datetime
from .auth.roles import has_role
from .domain import edit_role, registry


def is_htmx() -> bool:
    """An HTMX request that wants a fragment (a history restore wants the whole page)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def hlc_datetime(ts: Any) -> datetime | None:
    try:
        return to_datetime(int(ts))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def record_title(entity_name: str, state: dict[str, Any] | None, fallback: str = "") -> str:
    """A record's display title (its entity's title field), e.g. a team's name."""
    if not state or entity_name not in registry:
        return fallback
    value = state.get(registry.get(entity_name).title_field)
    return fallback if value in (None, "") else str(value)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "nav_entities": list(registry),
            "nav_endpoints": current_app.view_functions.keys(),  # a view: no copy per render
            "has_role": has_role,
            "edit_role": edit_role,
            "record_title": record_title,
        }

    app.add_template_filter(hlc_datetime, "hlc_datetime")
