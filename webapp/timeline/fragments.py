"""HTMX fragments from the page itself: an HTMX request gets one named block of the
page's template, a normal request the whole page (Hypermedia Systems' pattern)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template


def render_block(template: str, block: str, **context: Any) -> str:
    """One named block of a page, for an HTMX request (the page itself is the fragment's
    single source). Imports a block needs must sit inside the block."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.update_template_context(context)
    page = app.jinja_env.get_template(template)
    return "".join(page.blocks[block](page.new_context(context)))


def render_page_or_block(template: str, blocks: dict[str, str], target: str | None,
                         htmx: bool, **context: Any) -> str:
    """The whole page, or the block an HTMX request's target (HX-Target) stands for."""
    if htmx:
        block = blocks.get(target or "", blocks.get("", ""))
        if block:
            return render_block(template, block, **context)
    return render_template(template, **context)
