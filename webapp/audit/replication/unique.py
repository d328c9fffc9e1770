"""Unique values two records claim at once (the same username made on two nodes).

Neither sync fails nor a record is dropped. Among the live records whose own value of a
unique field is v (the claimants), the one with the smallest id keeps v; every other
stores v deterministically suffixed with the tail of its own id, and its own value is
kept in unique_renames. Record ids are ULIDs, so the oldest record keeps the name.
What is stored is thus a function of the records' own values alone, the same on every
node, and it is recomputed whenever a claim changes (a loser is given its value back
when the winner lets go of it). Each contested value has one open conflict."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import canonical
from ..entity import Entity
from ..idlists import list_style, one_of
from ..params import Email, Key, Param, Slug
from .conflicts import value_hash
from .tables import unique_renames

Change = tuple[dict[str, Any] | None, dict[str, Any] | None]  # own state before, after


@dataclass
class Contest:
    field: str
    value: Any
    claimants: list[str]  # sorted: the first keeps the value
    before: int  # how many claimed it before this transaction
    movers: list[str]  # the changed records that took or let go of it


@dataclass
class UniquePlan:
    stored: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    others: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    renames: list[dict[str, Any]] = field(default_factory=list)  # rows to insert
    unrenamed: list[tuple[str, str]] = field(default_factory=list)  # (field, id) to delete
    contests: list[Contest] = field(default_factory=list)


def suffixed(param: Param, value: Any, record_id: str) -> str:
    """`value` made distinct by the tail of `record_id`, still valid for its field."""
    tag, text = record_id[-8:].lower(), str(value)
    if isinstance(param, Email):
        local, _, domain = text.rpartition("@")
        keep = min(64, 253 - len(domain)) - len(tag) - 1
        return f"{local[:keep]}+{tag}@{domain}"
    limit = int(getattr(param, "max_length", 200))
    if isinstance(param, Slug):
        return f"{text[:limit - len(tag) - 1].rstrip('-')}-{tag}"
    if isinstance(param, Key):
        return f"{text[:limit - len(tag) - 1].rstrip('._')}_{tag}"
    return f"{text[:limit - len(tag) - 3]} ({tag})"


def plan(session: Session, entity: Entity, changes: Mapping[str, Change],
         renamed_now: set[tuple[str, str]]) -> UniquePlan:
    """What to store for every claimant of every value the changed records let go of
    or took. `stored`: values for the changed records; `others`: new values for other
    records; renames to write; and the contested values, for their conflicts.
    `renamed_now`: the (field, id) renames the changed records have today."""
    out = UniquePlan()
    touched = set(changes)
    for name in entity.unique_fields:
        took: dict[Any, set[str]] = defaultdict(set)
        left: dict[Any, set[str]] = defaultdict(set)
        for record_id, (old, new) in changes.items():
            if old is not None and old.get(name) is not None:
                left[old[name]].add(record_id)
            if new is not None and new.get(name) is not None:
                took[new[name]].add(record_id)
        out.unrenamed += sorted(k for k in renamed_now if k[0] == name)
        values = set(took) | set(left)
        renamed = _renamed_claims(session, entity, name, values)
        # A value kept by the same records, with no suffixed claimant, needs nothing:
        # the usual case of an edit that does not touch the field.
        busy = sorted(v for v in values if took.get(v) != left.get(v) or v in renamed)
        if not busy:
            continue
        holders: dict[Any, str] = dict(session.execute(_holders(entity.table, name),
                                                       {"values": busy}).all())
        for value in busy:
            holder = holders.get(value)
            before = renamed[value] | ({holder} if holder else set()) | left[value]
            claimants = sorted((before - touched) | took[value])
            _place(out, entity, name, value, claimants, holder, touched)
            if len(before) > 1 or len(claimants) > 1:
                movers = sorted(left[value] | took[value])
                out.contests.append(Contest(name, value, claimants, len(before), movers))
    return out


def _renamed_claims(session: Session, entity: Entity, name: str,
                    values: set[Any]) -> dict[Any, set[str]]:
    """value -> ids of the suffixed records whose own value it is."""
    renamed: dict[Any, set[str]] = defaultdict(set)
    probe = {"entity": entity.name, "field": name}
    if not values or session.execute(_ANY_RENAMED, probe).first() is None:
        return renamed  # no suffixed record for this field at all: no hashing either
    hashes = sorted({value_hash(v) for v in values})
    found = session.execute(_renamed(list_style(session)), {**probe, "hashes": hashes})
    for record_id, text in found.all():
        renamed[canonical.loads(text)].add(record_id)
    return renamed


def _place(out: UniquePlan, entity: Entity, name: str, value: Any, claimants: list[str],
           holder: str | None, touched: set[str]) -> None:
    for index, record_id in enumerate(claimants):
        keeps = index == 0
        wanted = value if keeps else suffixed(entity.fields[name], value, record_id)
        if not keeps and (record_id in touched or record_id == holder):
            out.renames.append({"entity": entity.name, "field": name, "record_id": record_id,
                                "value_hash": value_hash(value), "value": canonical.dumps(value)})
        if record_id in touched:
            out.stored[record_id][name] = wanted
        elif keeps != (record_id == holder):  # an other record won or lost the value
            out.others[record_id][name] = wanted
            if keeps:
                out.unrenamed.append((name, record_id))


@cache
def _holders(table: sa.Table, name: str) -> sa.Select[Any]:
    column = table.c[name]
    return sa.select(column, table.c.id).where(column.in_(sa.bindparam("values",
                                                                      expanding=True)))


@cache
def _renamed(style: str) -> sa.Select[Any]:
    return sa.select(unique_renames.c.record_id, unique_renames.c.value).where(
        unique_renames.c.entity == sa.bindparam("entity"),
        unique_renames.c.field == sa.bindparam("field"),
        one_of(unique_renames.c.value_hash, "hashes", style))


_ANY_RENAMED = sa.select(unique_renames.c.record_id).where(
    unique_renames.c.entity == sa.bindparam("entity"),
    unique_renames.c.field == sa.bindparam("field")).limit(1)
