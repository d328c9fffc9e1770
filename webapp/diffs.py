"""Field-by-field diffs of change events, as plain data for templates (no Flask, no HTML).

Two views of one event: what was asked (params) against what resulted (post_state), and
what was replaced (pre_state) against what resulted. Values are turned into display text
here, secret fields are redacted before any value leaves this module, and long or
multi-line text gets an inline diff as (op, text) segments that the template escapes."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

HIDDEN = "(hidden)"
INLINE_MIN_CHARS = 60  # shorter one-line values read fine as before -> after
MAX_TOKENS = 4000  # beyond this, difflib gets slow: show whole-value delete/insert
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")

Segment = tuple[str, str]  # (op, text); op is "equal", "delete" or "insert"


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    before: str | None  # display text; None means "no value" (absent, or no record)
    after: str | None
    changed: bool  # before and after differ (compared on the raw values)
    requested: bool  # the field was in the event's params
    unrequested: bool  # changed although nobody asked for it
    secret: bool
    inline: tuple[Segment, ...] = ()  # set for long or multi-line changed text
    mode: str = ""  # "words" or "lines" when `inline` is set


@dataclass(frozen=True)
class ParamDiff:
    name: str
    label: str
    asked: str | None  # None for a field that changed without being asked for
    resulted: str | None
    requested: bool
    applied: bool  # the resulting value is the asked one
    changed: bool  # the record's value actually changed
    secret: bool


@dataclass(frozen=True)
class StateDiff:
    fields: tuple[FieldDiff, ...]

    @property
    def changed(self) -> tuple[FieldDiff, ...]:
        return tuple(f for f in self.fields if f.changed)

    @property
    def unrequested(self) -> tuple[FieldDiff, ...]:
        return tuple(f for f in self.fields if f.unrequested)


def display(value: Any) -> str | None:
    """One value as text. None stays None so the template can show an empty marker."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _shown(value: Any, secret: bool) -> str | None:
    return HIDDEN if secret and value is not None else display(value)


def _field_names(labels: Mapping[str, str], *docs: Mapping[str, Any] | None) -> list[str]:
    """Declared fields first, in declaration order, then any unknown (older) keys."""
    names = list(labels)
    for doc in docs:
        names += sorted(k for k in (doc or {}) if k not in names and k != "id")
    return names


def state_diff(labels: Mapping[str, str], secret: Collection[str],
               before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
               requested: Collection[str] | None = None) -> StateDiff:
    """pre_state against post_state. `labels` maps field name to label (the entity's
    declared fields). Pass `requested` (the params' keys) to flag fields that changed
    without being asked for; that only applies when both states exist (an update)."""
    fields = []
    for name in _field_names(labels, before, after):
        old = before.get(name) if before is not None else None
        new = after.get(name) if after is not None else None
        hidden = name in secret
        changed = _changed(before, after, old, new)
        asked = requested is not None and name in requested
        unrequested = (changed and requested is not None and not asked
                       and before is not None and after is not None)
        inline: tuple[Segment, ...] = ()
        mode = ""
        if changed and not hidden and isinstance(old, str) and isinstance(new, str):
            mode = inline_mode(old, new)
            inline = inline_diff(old, new, mode) if mode else ()
        fields.append(FieldDiff(name, labels.get(name, name), _shown(old, hidden),
                                _shown(new, hidden), changed, asked, unrequested, hidden,
                                inline, mode))
    return StateDiff(tuple(fields))


def params_diff(labels: Mapping[str, str], secret: Collection[str], params: Mapping[str, Any],
                before: Mapping[str, Any] | None,
                after: Mapping[str, Any] | None) -> tuple[ParamDiff, ...]:
    """params (asked) against post_state (resulted), one row per asked field, then one
    row per field that changed without being asked for."""
    rows = []
    for name in _field_names(labels, params, before, after):
        old = before.get(name) if before is not None else None
        new = after.get(name) if after is not None else None
        changed = _changed(before, after, old, new)
        requested = name in params
        if not requested and not (changed and before is not None and after is not None):
            continue
        hidden = name in secret
        asked = params.get(name)
        applied = requested and after is not None and asked == new
        rows.append(ParamDiff(name, labels.get(name, name),
                              _shown(asked, hidden) if requested else None,
                              _shown(new, hidden), requested, applied, changed, hidden))
    return tuple(rows)


def for_event(entity: Any, event: Any) -> tuple[StateDiff, tuple[ParamDiff, ...]]:
    """Both diffs of a ChangeEvent; `entity` is its declaration, or None if unknown."""
    labels = {n: p.label or n for n, p in entity.fields.items()} if entity is not None else {}
    secret = entity.secret_fields if entity is not None else set()
    return (state_diff(labels, secret, event.pre_state, event.post_state, event.params.keys()),
            params_diff(labels, secret, event.params, event.pre_state, event.post_state))


def _changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
             old: Any, new: Any) -> bool:
    """A value appearing or disappearing with its record counts only if it is not empty."""
    if before is None and after is None:
        return False
    if before is None or after is None:
        return (old if after is None else new) is not None
    return bool(old != new)


def inline_mode(before: str, after: str) -> str:
    """'lines' for multi-line text, 'words' for long one-line text, '' otherwise."""
    if "\n" in before or "\n" in after:
        return "lines"
    if max(len(before), len(after)) >= INLINE_MIN_CHARS:
        return "words"
    return ""


def inline_diff(before: str, after: str, mode: str = "words") -> tuple[Segment, ...]:
    """Segments that rebuild `before` from the equal+delete ones and `after` from the
    equal+insert ones."""
    if mode == "lines":
        old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    else:
        old, new = _WORDS.findall(before), _WORDS.findall(after)
    if len(old) + len(new) > MAX_TOKENS:
        return _merge([("delete", before), ("insert", after)])
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(("delete", "".join(old[i1:i2])))
        if j2 > j1:
            segments.append(("insert", "".join(new[j1:j2])))
    return _merge(segments)


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """Drop empty segments and join neighbours of the same op."""
    out: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return tuple(out)
