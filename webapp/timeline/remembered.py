"""A page of event rows with each row's HTML remembered per process (webapp/rendered.py):
an event never changes, so only the rows not kept yet, or whose names, titles or
conflict mark changed since, are decoded, diffed and rendered. The dense timeline and
a record's history list their rows through here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from flask import current_app
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session

from ..audit import store
from ..audit.events import ChangeEvent
from ..audit.replication.provenance import Stamp
from ..auth.roles import has_role
from ..domain import registry
from ..preferences.zones import current_zone, current_zone_name
from ..rendered import Fragment, Fragments
from . import beside
from .rows import Shown, event_docs, wanted_refs

KEPT = 5_000  # rows per list and process: 100 pages of 50
KEPT_CHARS = 8_000_000  # and characters of HTML (a row with a long text diff is ~15 K)

# Renders the given events' rows (HTML, in order) from what the page read.
Render = Callable[[list[ChangeEvent], Shown], list[Markup]]


def kept_rows(name: str) -> Fragments:
    """This app's remembered rows of one kind of list (one app serves one database:
    event ids are unique within it, not across the apps a test run makes)."""
    key = f"hindsight.rows.{name}"
    found: Fragments | None = current_app.extensions.get(key)
    if found is None:
        found = current_app.extensions.setdefault(key, Fragments(KEPT, KEPT_CHARS))
    return found


@dataclass(frozen=True)
class Reader:
    """What a row's HTML depends on besides its event and what `Shown` reads: the
    reader's zone, the page's URL prefixes, and whether conflict marks link (admins)."""
    zone: tzinfo = field(compare=False)  # its name tells it
    zone_name: str
    urls: tuple[str, ...]  # a NamedTuple of prefixes (dense.Urls, listing.RecordUrls)
    admin: bool

    @classmethod
    def here(cls, urls: tuple[str, ...]) -> Reader:
        """The signed-in reader of this request."""
        return cls(current_zone(), current_zone_name(), urls, has_role(current_user, "admin"))

    @property
    def key(self) -> tuple[Any, ...]:
        """The reader's part of a row's key, as a plain tuple: hashed and compared for
        every row of a page, which a dataclass does in Python, a tuple in C."""
        return (self.zone_name, self.urls, self.admin)


def page_rows(session: Session, stored: Sequence[Any], nodes: Mapping[str, str],
              memo: Fragments, reader: Reader, render: Render,
              keep: Callable[[ChangeEvent], Any] | None = None,
              extra: Sequence[Stamp] = (),
              also: Mapping[str, Iterable[str]] | None = None) -> tuple[list[Fragment], Shown]:
    """The rows of a page, in order, and what was read for them. `stored`: its events
    as store.timeline_rows reads them (documents still text), with AUTHORS_AND_SIDES
    beside (beside.py). `reader`: what else the HTML depends on (the reader's zone and
    role, URL prefixes). `keep(event)`: what the page needs of an event besides its HTML
    (Fragment.kept). `extra`: other events the page names, whose users and marks are
    read with the rows' labels; `also`: other records it names ({entity: ids}), whose
    titles are read with them."""
    key = reader.key
    kept = [memo.get((r.event_id, key)) for r in stored]
    decoded: dict[str, ChangeEvent] = {}

    def event(row: Any) -> ChangeEvent:
        if row.event_id not in decoded:
            decoded[row.event_id] = store.upcast(
                registry, ChangeEvent.from_row(store.event_mapping(row)))
        return decoded[row.event_id]

    wanted: dict[str, set[str]] = {target: set(ids) for target, ids in (also or {}).items()}
    needs: list[tuple[tuple[str, str], ...]] = []
    for row, fragment in zip(stored, kept, strict=True):
        if fragment is None:
            refs = wanted_refs(event_docs(event(row)))
            needs.append(tuple(sorted((t, i) for t, ids in refs.items() for i in ids)))
        else:
            needs.append(fragment.needs)
        for target, ref in needs[-1]:
            wanted.setdefault(target, set()).add(ref)
    # The rows' authors and sides came with them: labels are read for the records the
    # rows name, the conflicts their sides took part in, and `extra` events not on the
    # page (an extra on the page is one of its rows).
    authors = beside.authors(stored)
    on_page = {r.event_id for r in stored}
    away = [e for e in extra if e.event_id not in on_page]
    shown = Shown.read(session, [e.user_id for e in away if e.user_id not in authors], wanted,
                       [*(r.event_id for r in stored if beside.is_side(r)),
                        *(e.event_id for e in away)])
    if authors:
        shown = Shown({**shown.users, **authors}, shown.refs, shown.marks)
    out: list[Fragment | None] = []
    values = []
    for row, fragment, referenced in zip(stored, kept, needs, strict=True):
        now = (shown.users.get(row.user_id or "", row.user_id or ""),
               nodes.get(row.origin_node_id, row.origin_node_id),
               tuple(shown.refs.get(ref) for _, ref in referenced),
               shown.marks.get(row.event_id))
        values.append(now)
        out.append(fragment if fragment is not None and fragment.shown == now else None)
    missing = [i for i, fragment in enumerate(out) if fragment is None]
    if missing:
        events = [event(stored[i]) for i in missing]
        for i, e, html in zip(missing, events, render(events, shown), strict=True):
            made = out[i] = Fragment(needs[i], values[i], html, keep(e) if keep else None)
            memo.put((e.event_id, key), made)
    return [fragment for fragment in out if fragment is not None], shown
