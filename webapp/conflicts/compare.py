"""A conflict laid out for reading: its sides as columns against the common ancestor,
field by field, and the merged values an admin's choice of resolution stands for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..audit import params as p
from ..audit.entity import Entity
from ..audit.replication import Conflict, Side


class ChoiceError(ValueError):
    """The posted choice of sides does not fit this conflict."""


def is_index(text: str) -> bool:
    """A posted whole number (a side, a version): ASCII digits only, since int() would
    refuse some characters that str.isdigit() takes ("²") and read others ("٣")."""
    return text.isascii() and text.isdigit() and len(text) <= 12


@dataclass(frozen=True)
class SideView:
    index: int
    letter: str  # "A", "B", ...: how the page names a side
    side: Side
    node_name: str
    winner: bool  # the provisional winner every node applied
    deleted: bool


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    secret: bool
    ancestor: Any  # None when there is no ancestor (or it had no value)
    values: list[Any]  # one per side; None for a side that deleted the record
    changed: list[bool]  # per side: differs from the ancestor
    differs: bool  # the sides disagree
    default: int  # the side to preselect, or -1: the admin must choose
    disputed: bool  # changed on several sides to different values: a choice to make
    merged_from: list[str]  # letters of the sides whose change the record took (merged)
    current: Any  # the value the record holds now (merged, or provisional)


def side_views(conflict: Conflict, names: Mapping[str, str]) -> list[SideView]:
    return [SideView(i, chr(ord("A") + i) if i < 26 else str(i + 1), side,
                     names.get(side.origin_node_id, side.origin_node_id),
                     side.event_id == conflict.winner_event_id, side.state is None)
            for i, side in enumerate(conflict.sides)]


def merged_fields(conflict: Conflict) -> bool:
    """Whether the conflict knows its disputed fields (its live versions were merged
    field by field); conflicts recorded before field merges, and an update against a
    delete with one live version, compare whole versions."""
    return conflict.disputed is not None


def field_rows(conflict: Conflict, entity: Entity, sides: list[SideView],
               current: Mapping[str, Any] | None) -> list[FieldRow]:
    winner = next((s.index for s in sides if s.winner), 0)
    live = [s for s in sides if not s.deleted]
    by_field = merged_fields(conflict)
    # Whole versions: each pick starts on the provisional winner (or a live side). Field
    # merges: a disputed field is the admin's to choose, with nothing preselected.
    default = winner if not sides[winner].deleted else (live[0].index if live else 0)
    rows = []
    for name, param in entity.fields.items():
        values = [None if s.deleted else s.side.state.get(name) for s in sides]  # type: ignore[union-attr]
        ancestor = conflict.ancestor.get(name) if conflict.ancestor else None
        if by_field:
            changed = [name in s.side.fields for s in sides]
        else:
            changed = [conflict.ancestor is not None and not s.deleted
                       and values[s.index] != ancestor for s in sides]
        distinct = {repr(values[s.index]) for s in live}
        differs = len(distinct) > 1 or len(live) < len(sides)
        disputed = name in (conflict.disputed or ()) if by_field else differs
        merged_from = [s.letter for s in sides if changed[s.index]] if by_field and not disputed \
            else []
        rows.append(FieldRow(name, param.label or name, param.secret, ancestor, values, changed,
                             differs, -1 if by_field else default, disputed, merged_from,
                             current.get(name) if current is not None else None))
    return rows


def _form_value(param: p.Param, value: Any) -> Any:
    """A stored value as a form would post it, for the core to clean again."""
    if isinstance(param, p.Boolean):
        return bool(value)
    return "" if value is None else value


def whole_side(entity: Entity, conflict: Conflict, index: int) -> dict[str, Any] | None:
    """Take one side: its deletion (None), its values of the disputed fields (a field
    merge: what the other sides changed alone stays merged), or the whole version."""
    if not 0 <= index < len(conflict.sides):
        raise ChoiceError("no such side")
    state = conflict.sides[index].state
    if state is None:
        return None
    wanted = conflict.disputed if merged_fields(conflict) else tuple(entity.fields)
    return {name: _form_value(param, state.get(name)) for name, param in entity.fields.items()
            if not param.secret and name in (wanted or ())}


def picked_fields(entity: Entity, conflict: Conflict, picks: Mapping[str, str]) -> dict[str, Any]:
    """Each field to choose from the side the admin picked: the disputed ones of a field
    merge (the rest keeps its merged value), else every field. Secret fields keep the
    current value."""
    values: dict[str, Any] = {}
    by_field = merged_fields(conflict)
    for name, param in entity.fields.items():
        if param.secret or (by_field and name not in (conflict.disputed or ())):
            continue
        raw = picks.get(f"pick-{name}", "")
        if not is_index(raw) or not 0 <= int(raw) < len(conflict.sides):
            raise ChoiceError(f"choose a side for {param.label or name}")
        state = conflict.sides[int(raw)].state
        if state is None:
            raise ChoiceError(f"side {int(raw) + 1} deleted the record: it has no "
                              f"{param.label or name}")
        values[name] = _form_value(param, state.get(name))
    return values


def title(conflict: Conflict, entity: Entity) -> str:
    """The record's title as the provisional winner (or any live side) has it."""
    states = [s.state for s in conflict.sides if s.event_id == conflict.winner_event_id]
    states += [s.state for s in conflict.sides]
    for state in states:
        if state and state.get(entity.title_field) not in (None, ""):
            return str(state[entity.title_field])
    return conflict.record_id
