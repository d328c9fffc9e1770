"""One line that says what an event did, for the dense timeline row: the record created
or deleted, or the first changed fields with their old and new values (shortened)."""

from __future__ import annotations

from .. import diffs

MAX_VALUE = 40  # characters of a value shown in a summary
MAX_FIELDS = 2  # changed fields named with their values; the rest are counted


def short(value: str | None) -> str:
    if value is None or value == "":
        return "(empty)"
    first = value.splitlines()[0] if value.strip() else value
    cut = first if len(first) <= MAX_VALUE else first[:MAX_VALUE - 1].rstrip() + "…"
    return cut + ("…" if cut == first and first != value else "")


def one_line(op: str, title: str, state: diffs.StateDiff) -> str:
    changed = state.changed
    if op == "created":
        return f"created “{title}”"
    if op == "deleted":
        return f"deleted “{title}”"
    if not changed:
        return "no field changed"
    parts = [f"{f.label}: {short(f.before)} → {short(f.after)}" if not f.secret
             else f"{f.label} changed" for f in changed[:MAX_FIELDS]]
    more = len(changed) - MAX_FIELDS
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
