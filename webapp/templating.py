"""What every template can use: the nav's entities, role checks, record titles, and HLC
filters (datetimes for the `when` macro in _partials/time.html, readable form, parts)."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, request, url_for
from markupsafe import Markup, escape

from . import zones
from .audit import fields, keys
from .audit import params as p
from .audit.events import ChangeEvent
from .audit.hlc import format_hlc, to_datetime, unpack
from .auth.roles import has_role
from .domain import edit_role, registry
from .links import fixed_url
from .preferences.zones import in_zone


def is_htmx() -> bool:
    """An HTMX request that wants a fragment (a history restore wants the whole page)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def macro(template: str, name: str) -> Callable[..., Markup]:
    """A macro of `template`, to render a fragment from Python with this request's
    template context (current_user, has_role, ...), as a page that imports it would."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    context: dict[str, Any] = {}
    app.update_template_context(context)
    found: Callable[..., Markup] = getattr(
        app.jinja_env.get_template(template).make_module(context), name)
    return found


def hlc_datetime(ts: Any) -> datetime | None:
    try:
        return to_datetime(int(ts))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def hlc_counter(hlc: int) -> int:
    """The logical counter: how many events this node stamped earlier in the same
    millisecond (or the HLC receive rule advanced past)."""
    return unpack(hlc)[1]


def hlc_ms(hlc: int) -> int:
    """The physical part: wall milliseconds since the Unix epoch."""
    return unpack(hlc)[0]


def record_title(entity_name: str, state: dict[str, Any] | None, fallback: str = "") -> str:
    """A record's display title (its entity's title field), e.g. a team's name; the
    fallback when there is none or the title field is secret."""
    if not state or entity_name not in registry:
        return fallback
    entity = registry.get(entity_name)
    if entity.title_field in entity.secret_fields:
        return fallback
    value = state.get(entity.title_field)
    return fallback if value in (None, "") else str(value)


def field_text(value: Any, param: p.Param) -> str:
    """A field's stored value as people read it: a choice's label, a moment in the
    admin's zone, an amount as its exact text."""
    if isinstance(param, fields.DateTime) and isinstance(value, str):
        return zones.shown(value)
    return param.display(value)


def event_link(event: ChangeEvent) -> str:
    """Where a listed event's title leads: its record's page, or for a record no page
    shows (the access log's), the event's own page."""
    if event.entity in registry and registry.get(event.entity).system:
        return url_for("timeline.event", event_id=event.event_id)
    return url_for("records.show", entity=event.entity, record_id=event.record_id)


def _part(option: Any, key: Any) -> Any:
    if key is None:
        return option
    return option[key] if isinstance(option, (Mapping, tuple, list)) else getattr(option, key)


def option_tags(options: Iterable[Any], selected: Any, value: Any = None,
                text: Any = None) -> Markup:
    """The <option>s of a select (the `choice` macro's): value and text are the `value`
    and `text` keys, indexes or attributes of each option, or the option itself. Built
    here, not in a template loop: the timeline's list of users has hundreds."""
    if value is None and text is None:
        return _plain_options(tuple(options), selected)
    return _options(tuple((_part(o, value), _part(o, text)) for o in options), selected)


# Remembered per process under the values and texts themselves (and the selection), so
# an entry cannot go stale, only fall out: escaping the timeline's hundreds of users
# again on every page cost as much as a query. Values and texts are text or numbers.
@lru_cache(maxsize=64)
def _plain_options(values: tuple[Any, ...], selected: Any) -> Markup:
    return _tags(((v, v) for v in values), selected)


@lru_cache(maxsize=64)
def _options(pairs: tuple[tuple[Any, Any], ...], selected: Any) -> Markup:
    return _tags(pairs, selected)


def each_row(rows: Iterable[Any], actions: Container[str], head: Markup, tail: Markup,
             close: Markup) -> Markup:
    """A record's history rows (records/show.html): each one's remembered HTML, then,
    for an event in `actions`, `head`, its id and `tail` (the revert form), then `close`.
    Joined here, not in a template loop, as the rows are already markup: the loop's
    escaping and lookups cost a fifth of the page's rendering."""
    head, tail, close = escape(head), escape(tail), escape(close)  # as given: markup
    return Markup("".join(
        f"{escape(row.html)}{head}{escape(row.event_id)}{tail}{close}"
        if row.event_id in actions else f"{escape(row.html)}{close}" for row in rows))


def _tags(pairs: Iterable[tuple[Any, Any]], selected: Any) -> Markup:
    return Markup("".join(f'<option value="{escape(v)}"{" selected" if selected == v else ""}>'
                          f'{escape(t)}</option>' for v, t in pairs))


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "nav_entities": [entity for entity in registry if not entity.system],
            "has_role": has_role,
            "edit_role": edit_role,
            "record_title": record_title,
            "event_link": event_link,
        }

    # Globals, not context: macros imported without context (filters.html) use them too.
    app.jinja_env.globals.update(option_tags=option_tags, each_row=each_row, fixed_url=fixed_url)
    app.jinja_env.filters.update(hlc_datetime=hlc_datetime, format_hlc=format_hlc,
                                 hlc_counter=hlc_counter, hlc_ms=hlc_ms,
                                 fingerprint=keys.fingerprint, field_text=field_text,
                                 in_zone=in_zone)
