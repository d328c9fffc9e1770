"""Field-by-field diffs of change events, as plain data for templates (no Flask, no HTML).

Two views of one event: what was asked (params) against what resulted (post_state), and
what was replaced (pre_state) against what resulted. Values become display text here;
secret fields are redacted before any value leaves this module; long or multi-line text
gets an inline diff (webapp/inline_diff.py) that the template escapes segment by segment."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from .audit.entity import Entity
from .audit.events import ChangeEvent
from .audit.fields import DateTime, moment_text
from .audit.params import Param
from .inline_diff import Segment, inline_diff, inline_mode

HIDDEN = "(hidden)"
State = Mapping[str, Any] | None


@dataclass(frozen=True)
class Fields:
    """How to show one entity's fields: labels (in declaration order), which are secret,
    which hold ids of other records, and the titles known for such ids."""
    labels: Mapping[str, str]
    secret: Collection[str] = frozenset()
    refs: Collection[str] = frozenset()
    titles: Mapping[str, str] = field(default_factory=dict)  # record id -> title
    params: Mapping[str, Param] = field(default_factory=dict)  # how each value reads
    zone: tzinfo | None = None  # moments (DateTime fields) are shown in it; None: UTC
    targets: Mapping[str, str] = field(default_factory=dict)  # ref field -> its entity

    @classmethod
    def of(cls, entity: Entity | None, titles: Mapping[str, str] | None = None,
           zone: tzinfo | None = None) -> Fields:
        """From an Entity declaration; None (an undeclared entity) shows raw keys."""
        if entity is None:
            return cls({})
        labels = {name: param.label or name for name, param in entity.fields.items()}
        return cls(labels, entity.secret_fields, set(entity.refs), titles or {}, entity.fields,
                   zone, dict(entity.refs))

    def show(self, name: str, value: Any) -> str | None:
        """Display text; a reference shows its record's title (the page links it)."""
        if value is not None and name in self.secret:
            return HIDDEN
        if name in self.refs and value in self.titles:
            return self.titles[value]
        param = self.params.get(name)
        if isinstance(param, DateTime) and isinstance(value, str):
            return moment_text(value, self.zone)
        if param is not None and value is not None and not isinstance(value, bool):
            return param.display(value)  # a choice's label, an amount's exact text
        return display(value)

    def ref_id(self, name: str, value: Any) -> str | None:
        """The referenced record's id, for a link, when `name` is a reference."""
        return value if name in self.targets and isinstance(value, str) and value else None

    def names(self, *docs: State) -> list[str]:
        """Declared fields first, then any other keys (e.g. of an older schema)."""
        names = list(self.labels)
        for doc in docs:
            names += sorted(k for k in (doc or {}) if k not in names and k != "id")
        return names


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    before: str | None  # display text; None means no value (or no record)
    after: str | None
    changed: bool  # compared on the raw values, so a secret still shows as changed
    requested: bool  # the field was in the event's params
    unrequested: bool  # changed although nobody asked for it
    secret: bool
    inline: tuple[Segment, ...] = ()  # for long or multi-line changed text
    mode: str = ""  # "words" or "lines" when `inline` is set
    target: str = ""  # the referenced entity, for a reference field (values link there)
    before_id: str | None = None  # the referenced records' ids
    after_id: str | None = None
    link: bool = False  # a URL field: its value may be shown as a link (http/https only)


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
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _changed(before: State, after: State, old: Any, new: Any) -> bool:
    """A value appearing or disappearing with its record counts only if it is not empty."""
    if before is None or after is None:
        return before is not after and (old if after is None else new) is not None
    return bool(old != new)


def state_diff(fields: Fields, before: State, after: State,
               requested: Collection[str] | None = None, inline: bool = True,
               only_changed: bool = False) -> StateDiff:
    """pre_state against post_state. Pass `requested` (the params' keys) to flag fields
    that changed without being asked for (only when both states exist: an update).
    `inline=False` skips the inline diffs of long text, and `only_changed` the fields
    that did not change (a dense timeline row names the changed ones, shows no diff)."""
    want_inline = inline
    out = []
    for name in fields.names(before, after):
        old, new = (before or {}).get(name), (after or {}).get(name)
        changed = _changed(before, after, old, new)
        if only_changed and not changed:
            continue
        asked = requested is not None and name in requested
        unrequested = (changed and requested is not None and not asked
                       and before is not None and after is not None)
        hidden = name in fields.secret
        inline: tuple[Segment, ...] = ()
        mode = ""
        if (want_inline and changed and not hidden and isinstance(old, str)
                and isinstance(new, str)):
            mode = inline_mode(old, new)
            inline = inline_diff(old, new, mode) if mode else ()
        link = getattr(fields.params.get(name), "kind", "") == "url"
        out.append(FieldDiff(name, fields.labels.get(name, name), fields.show(name, old),
                             fields.show(name, new), changed, asked, unrequested, hidden,
                             inline, mode, fields.targets.get(name, ""),
                             fields.ref_id(name, old), fields.ref_id(name, new), link))
    return StateDiff(tuple(out))


def params_diff(fields: Fields, params: Mapping[str, Any], before: State,
                after: State) -> tuple[ParamDiff, ...]:
    """params (asked) against post_state (resulted): a row per asked field, and a row per
    field that changed without being asked for."""
    rows = []
    for name in fields.names(params, before, after):
        old, new = (before or {}).get(name), (after or {}).get(name)
        changed = _changed(before, after, old, new)
        requested = name in params
        if not requested and not (changed and before is not None and after is not None):
            continue
        asked = fields.show(name, params.get(name)) if requested else None
        applied = requested and after is not None and params.get(name) == new
        rows.append(ParamDiff(name, fields.labels.get(name, name), asked,
                              fields.show(name, new), requested, applied, changed,
                              name in fields.secret))
    return tuple(rows)


def for_event(fields: Fields, event: ChangeEvent) -> tuple[StateDiff, tuple[ParamDiff, ...]]:
    """Both diffs of a ChangeEvent."""
    return (state_diff(fields, event.pre_state, event.post_state, event.params.keys()),
            params_diff(fields, event.params, event.pre_state, event.post_state))
