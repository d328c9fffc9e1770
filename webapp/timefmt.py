"""Jinja filters for HLC timestamps, beside `hlc_datetime` in webapp/templating.py
(which feeds the `when` macro of _partials/time.html)."""

from __future__ import annotations

from flask import Flask

from .audit.hlc import format_hlc, unpack


def hlc_counter(hlc: int) -> int:
    """The logical counter: how many events this node stamped earlier in the same
    millisecond (or the HLC receive rule advanced past)."""
    return unpack(hlc)[1]


def hlc_ms(hlc: int) -> int:
    """The physical part: wall milliseconds since the Unix epoch."""
    return unpack(hlc)[0]


def init_app(app: Flask) -> None:
    """Register the filters; safe to call more than once (both blueprints do)."""
    app.jinja_env.filters.update(format_hlc=format_hlc, hlc_counter=hlc_counter, hlc_ms=hlc_ms)
