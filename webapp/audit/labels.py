"""What a list of events prints beside its events, read in one statement: the titles of
the records they name (by their title field; a deleted record by the last title its
tombstone keeps, where asked) and each event's conflict mark.

Read apart, these were a statement for the marks and one per entity (two with deleted
records), on every timeline and record page; each statement costs the app more CPU
than the rows it returns (a round trip, and SQLAlchemy's and the driver's work per
statement). One UNION ALL returns them all: every branch gives the same columns, a
number saying which branch a row comes from and what it holds."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .entity import Entity
from .idlists import is_token, list_style, one_of
from .lookups import deleted_title, deleted_titles
from .records import titles as live_titles
from .replication.queries import MARK_COLUMNS, Mark, conflict_marks, keep_mark, marks_select
from .tables import tombstones
from .transaction import CHUNK, chunks

MOST = CHUNK  # ids per list in the one statement; longer lists read apart, in chunks
_MARK = 0  # the marks branch; entity i's titles are branch 2i + 1, its tombstones 2i + 2


@dataclass(frozen=True)
class Labels:
    titles: dict[str, dict[str, str]]  # {entity name: {record id: title}} of live records
    gone: dict[str, dict[str, str]]  # the same of deleted ones (their last titles)
    marks: dict[str, Mark]  # {event id: the most pressing conflict it took part in}

    def named(self, entity: str) -> dict[str, str]:
        """Titles of the entity's records, deleted or not (a record recreated under its
        id is live)."""
        return {**self.gone.get(entity, {}), **self.titles.get(entity, {})}


def read(session: Session, wanted: Iterable[tuple[Entity, Iterable[str]]],
         event_ids: Iterable[str], deleted: Collection[str] = ()) -> Labels:
    """The titles of the records `wanted` names ((entity, ids) pairs, an entity once),
    deleted ones too (in Labels.gone) for the entities named in `deleted`, and the
    conflict marks of `event_ids`."""
    # In name order: the same entities make the same statement, whatever the page.
    asked = sorted(((entity, sorted({i for i in ids if is_token(i)})) for entity, ids in wanted),
                   key=lambda pair: pair[0].name)
    events = sorted({e for e in event_ids if is_token(e)})  # what is not an id names no row
    out = Labels({e.name: {} for e, _ in asked}, {e.name: {} for e, _ in asked}, {})
    if not events and not any(ids for _, ids in asked):
        return out
    if len(events) > MOST or any(len(ids) > MOST for _, ids in asked) or \
            not all(_text(e.table.c[e.title_field]) for e, _ in asked):
        return _apart(session, asked, events, deleted, out)
    shape = tuple((e.name, e.table, e.title_field, e.name in deleted) for e, _ in asked)
    values: dict[str, Any] = {f"ids_{i}": ids for i, (_, ids) in enumerate(asked)}
    for kind, key, a, b, c, d, e, version in session.execute(
            _statement(shape, list_style(session)), {**values, "events": events}):
        if kind == _MARK:
            keep_mark(out.marks, key, a, b, c, d, e)
            continue
        entity = asked[(kind - 1) // 2][0]
        if kind % 2:
            out.titles[entity.name][key] = str(a)  # as records.titles has it
        else:
            out.gone[entity.name][key] = deleted_title(entity, key, a, version)
    return out


def _text(column: sa.Column[Any]) -> bool:
    """Whether a title column is text (the statement's title column is): a title of
    another type reads apart, to print as Python prints it."""
    return isinstance(column.type, sa.String)


def _apart(session: Session, asked: list[tuple[Entity, list[str]]], events: list[str],
           deleted: Collection[str], out: Labels) -> Labels:
    """read(), a statement per kind (and per chunk of ids): for long lists."""
    for entity, ids in asked:
        for chunk in chunks(ids):
            out.titles[entity.name].update(live_titles(session, entity, chunk))
        if entity.name in deleted:
            for chunk in chunks(set(ids) - out.titles[entity.name].keys()):
                out.gone[entity.name].update(deleted_titles(session, entity, chunk))
    out.marks.update(conflict_marks(session, events))
    return out


@cache
def _statement(shape: tuple[tuple[str, sa.Table, str, bool], ...],
               style: str) -> sa.CompoundSelect[Any]:
    """Built once per shape (which entities, which with tombstones): pages run it on
    every request. Columns: kind, key, five texts, a number."""
    none, no_number = sa.null(), sa.cast(sa.null(), sa.Integer)  # PostgreSQL types a bare NULL text
    branches: list[sa.Select[Any]] = [marks_select(one_of(MARK_COLUMNS[0], "events", style),
                                                   (_kind(_MARK), *MARK_COLUMNS, no_number))]
    for i, (name, table, title_field, with_deleted) in enumerate(shape):
        branches.append(sa.select(_kind(2 * i + 1), table.c.id, table.c[title_field], none,
                                  none, none, none, no_number)
                        .where(one_of(table.c.id, f"ids_{i}", style)))
        if with_deleted:
            t = tombstones.c
            branches.append(sa.select(_kind(2 * i + 2), t.record_id, t.last_state, none, none,
                                      none, none, t.schema_version)
                            .where(t.entity == sa.bindparam(f"entity_{i}", name),
                                   one_of(t.record_id, f"ids_{i}", style)))
    return sa.union_all(*branches)


def _kind(number: int) -> sa.ColumnElement[int]:
    return sa.literal_column(str(number), sa.Integer)
