"""What a timeline row shows besides the event: its entity, the record's title, the
diffs, and the names of its user, origin node and referenced records (looked up once
per page, never per row; the caller passes the node names it has already read)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from .. import diffs, zones
from ..audit import labels
from ..audit.entity import Entity
from ..audit.events import ChangeEvent
from ..audit.ids import is_ulid
from ..audit.replication import Mark
from ..domain import registry, users
from ..templating import record_title
from .summary import one_line


@dataclass(frozen=True)
class EventRow:
    event: ChangeEvent
    entity: Entity | None  # None for an entity this build does not declare
    title: str
    state: diffs.StateDiff
    params: tuple[diffs.ParamDiff, ...]
    user: str  # username if known, else the stored user id
    node: str  # node name if known, else its id
    mark: Mark | None = None  # the conflict this event took part in, if any

    @property
    def entity_label(self) -> str:
        return self.entity.label if self.entity is not None else self.event.entity

    @property
    def summary(self) -> str:
        return one_line(self.event.op, self.title, self.state)


def page_size() -> int:
    return int(current_app.config.get("HINDSIGHT_TIMELINE_PAGE_SIZE", 50))


def entity_of(name: str) -> Entity | None:
    return registry.get(name) if name in registry else None


def wanted_refs(docs: Iterable[tuple[Entity | None, Mapping[str, Any] | None]]
                ) -> dict[str, set[str]]:
    """{referenced entity: ids} of the records that `docs` reference through Ref fields."""
    wanted: dict[str, set[str]] = {}
    for entity, doc in docs:
        if entity is None or not doc:
            continue
        for name, target in entity.refs.items():
            value = doc.get(name)
            if isinstance(value, str) and is_ulid(value):
                wanted.setdefault(target, set()).add(value)
    return wanted


def _labels(session: Session, user_ids: Iterable[str | None], refs: Mapping[str, Iterable[str]],
            event_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str], dict[str, Mark]]:
    """Usernames of `user_ids` (live accounts), titles of the records `refs` names (deleted
    ones too) and conflict marks of `event_ids`, in one statement (audit/labels.py)."""
    named = {t: set(ids) for t, ids in refs.items() if t in registry}
    accounts = {u for u in user_ids if u}
    wanted = dict(named)
    if accounts:  # a user named by a Ref field too is looked up once
        wanted[users.name] = named.get(users.name, set()) | accounts
    found = labels.read(session, [(registry.get(t), ids) for t, ids in wanted.items()],
                        event_ids, deleted=named.keys())
    live = found.titles.get(users.name, {})  # an author's name only while the account lives
    names = {u: live[u] for u in accounts if u in live}
    titles = {}
    for target, ids in named.items():
        known = found.named(target)
        titles.update((i, known[i]) for i in ids if i in known)
    return names, titles, found.marks


def ref_titles(session: Session,
               docs: Iterable[tuple[Entity | None, Mapping[str, Any] | None]]) -> dict[str, str]:
    """Titles of the records that `docs` reference through Ref fields, in one statement;
    deleted records by their last title (from their tombstones)."""
    return _labels(session, (), wanted_refs(docs), ())[1]


def event_docs(event: ChangeEvent) -> Iterator[tuple[Entity | None, Mapping[str, Any] | None]]:
    """The documents of an event that may reference records, with its entity."""
    entity = entity_of(event.entity)
    return ((entity, doc) for doc in (event.pre_state, event.post_state, event.params))


@dataclass(frozen=True)
class Shown:
    """What rows print besides their events, read once per page: usernames by user id,
    referenced records' titles by id, conflict marks by event id."""
    users: Mapping[str, str]
    refs: Mapping[str, str]
    marks: Mapping[str, Mark]

    @classmethod
    def read(cls, session: Session, user_ids: Iterable[str | None],
             refs: Mapping[str, Iterable[str]], event_ids: Sequence[str]) -> Shown:
        return cls(*_labels(session, user_ids, refs, event_ids))

    @classmethod
    def of_events(cls, session: Session, events: Sequence[ChangeEvent]) -> Shown:
        wanted = wanted_refs(doc for e in events for doc in event_docs(e))
        return cls.read(session, (e.user_id for e in events), wanted,
                        [e.event_id for e in events])


def build(session: Session, events: Sequence[ChangeEvent],
          nodes: Mapping[str, str], dense: bool = False,
          params: bool = True, shown: Shown | None = None) -> list[EventRow]:
    """`nodes`: {node id: name}, from audit.lookups.node_names. `dense`: for rows that
    show which fields changed but no diff (only the changed fields, no inline text
    diffs, no params diff). `params=False`: rows that show their changed fields' diff
    but no params diff (a record's history). `shown`: the names, titles and marks if
    the caller has read them already."""
    if shown is None:
        shown = Shown.of_events(session, events)
    names, refs, marks = shown.users, shown.refs, shown.marks
    entities = {name: entity_of(name) for name in {e.entity for e in events}}
    zone = zones.admin_zone()  # moments in the admins' zone
    fields = {name: diffs.Fields.of(entity, refs, zone) for name, entity in entities.items()}
    rows = []
    for event in events:
        entity = entities[event.entity]
        if dense:
            state = diffs.state_diff(fields[event.entity], event.pre_state,
                                     event.post_state, event.params.keys(), inline=False,
                                     only_changed=True)
            asked: tuple[diffs.ParamDiff, ...] = ()
        elif params:
            state, asked = diffs.for_event(fields[event.entity], event)
        else:
            state, asked = diffs.state_diff(fields[event.entity], event.pre_state,
                                            event.post_state, event.params.keys(),
                                            only_changed=True), ()
        user = names.get(event.user_id or "", event.user_id or "")
        title = record_title(event.entity, event.post_state or event.pre_state, event.record_id)
        rows.append(EventRow(event, entity, title, state, asked, user,
                             nodes.get(event.origin_node_id, event.origin_node_id),
                             marks.get(event.event_id)))
    return rows
