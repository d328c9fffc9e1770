"""HTMX fragments from the page itself: an HTMX request gets one named block of the
page's template, a normal request the whole page (Hypermedia Systems' pattern)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, make_response, render_template, request
from werkzeug.wrappers import Response

from ..templating import is_htmx


def render_block(template: str, block: str, **context: Any) -> str:
    """One named block of a page, for an HTMX request (the page itself is the fragment's
    single source). Imports a block needs must sit inside the block."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.update_template_context(context)
    page = app.jinja_env.get_template(template)
    return "".join(page.blocks[block](page.new_context(context)))


def wanted_block(blocks: Mapping[str, str]) -> str | None:
    """The block that `blocks` names for an HTMX request's target (HX-Target), if any."""
    return blocks.get(request.headers.get("HX-Target", "")) if is_htmx() else None


def page_or_block(template: str, blocks: Mapping[str, str], status: int = 200,
                  **context: Any) -> Response:
    """The whole page, or the block that `blocks` names for an HTMX request's target
    (HX-Target). The answer varies with both headers, so caches keep them apart."""
    block = wanted_block(blocks)
    body = (render_block(template, block, **context) if block
            else render_template(template, **context))
    response = make_response(body, status)
    response.vary.update(("HX-Request", "HX-Target"))
    return response

