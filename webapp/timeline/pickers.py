"""The timeline form's date pickers and presets, in the reader's time zone: what a
typed or linked time looks like in an <input type=datetime-local>, and the "last hour",
"last 24 hours", "last 7 days" links (a `from` time, the other filters kept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from .filters import parse_time

PRESETS = (("Last hour", timedelta(hours=1)), ("Last 24 hours", timedelta(days=1)),
           ("Last 7 days", timedelta(days=7)))
_MINUTES = "%Y-%m-%dT%H:%M"


def picker_value(text: str, end: bool, zone: tzinfo) -> str:
    """A filter value as a datetime-local value in `zone` ('' when it is not a time: the
    picker then shows empty and the error says why). A date alone becomes its first
    minute, or for an inclusive end its last, which filters the same."""
    try:
        ms = parse_time(text, False, zone)
    except (ValueError, OverflowError):
        return ""
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    if end and len(text) == len("YYYY-MM-DD"):
        local += timedelta(days=1, minutes=-1)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else _MINUTES)


def preset_starts(now: datetime, zone: tzinfo) -> list[tuple[str, str]]:
    """(label, `from` value in `zone`) of each preset, to the minute."""
    local = now.astimezone(zone)
    return [(label, (local - span).strftime(_MINUTES)) for label, span in PRESETS]
