"""The list page's query: search, filters and the keyset cursor, read from the URL and
checked (a bad value is a 400 with a reason, never a silent wrong page), and the
columns shown for an entity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ..audit import params as p
from ..audit.entity import Entity
from ..audit.ids import is_ulid
from ..audit.lookups import deleted_titles
from ..audit.records import RecordPage, count_matching, list_records, titles
from ..domain import registry
from ..forms_factory import ref_choices

PAGE_SIZE = 25
MAX_COLUMNS = 6


@dataclass
class ListQuery:
    search: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    raw_filters: dict[str, str] = field(default_factory=dict)  # as typed, for the URL
    after: str | None = None
    sort: str | None = None  # a shown column; None: newest first
    descending: bool = False

    def url_args(self, after: str | None = None) -> dict[str, str]:
        args = {k: v for k, v in self.raw_filters.items() if v}
        if self.search:
            args["q"] = self.search
        if self.sort:
            args["sort"] = self.sort
            if self.descending:
                args["dir"] = "desc"
        if after:
            args["after"] = after
        return args

    def sort_args(self, name: str) -> dict[str, str]:
        """The URL that sorts by `name`: ascending first, then descending (page 1)."""
        args = {k: v for k, v in self.url_args().items() if k not in ("sort", "dir")}
        args["sort"] = name
        if self.sort == name and not self.descending:
            args["dir"] = "desc"
        return args

    @property
    def narrowed(self) -> bool:
        return bool(self.search or self.filters)


def _filter_value(param: p.Param, raw: str) -> Any:
    if isinstance(param, p.Boolean) and raw in ("1", "0"):
        return raw == "1"
    if isinstance(param, p.Choice) and raw in param.choices:
        return raw
    if isinstance(param, p.Ref) and is_ulid(raw):
        return raw
    abort(400, f"{param.label or 'filter'}: {raw[:40]!r} is not a value to filter by")


def parse_query(entity: Entity, args: MultiDict[str, str]) -> ListQuery:
    query = ListQuery(search=args.get("q", "").strip()[:200])
    for name in entity.filter_fields:
        raw = args.get(name, "").strip()
        query.raw_filters[name] = raw
        if raw:
            query.filters[name] = _filter_value(entity.fields[name], raw)
    after = args.get("after") or None
    if after is not None and not is_ulid(after):
        abort(400, "The page link is broken (bad 'after' cursor).")
    query.after = after
    sort = args.get("sort") or None
    if sort is not None and sort not in columns(entity):
        abort(400, f"cannot sort by {sort[:40]!r}: sort by one of the shown columns")
    direction = args.get("dir", "asc")
    if direction not in ("asc", "desc"):
        abort(400, "dir is 'asc' or 'desc'")
    query.sort, query.descending = sort, direction == "desc"
    return query


Options = list[tuple[str, str]]


def filter_options(session: Session, entity: Entity) -> list[tuple[str, str, Options]]:
    """(field name, label, [(value, label)]) for each filter select."""
    options = []
    for name in entity.filter_fields:
        param = entity.fields[name]
        values: Options
        if isinstance(param, p.Boolean):
            values = [("1", "Yes"), ("0", "No")]
        elif isinstance(param, p.Choice):
            values = list(param.labels)
        elif isinstance(param, p.Ref):
            values = ref_choices(session, registry.get(param.entity), True)
        else:
            continue
        options.append((name, param.label or name, values))
    return options


def columns(entity: Entity) -> list[str]:
    """The declared list columns; by default the title first, then every other
    non-secret field (long text shortened on the page), so every field's value is
    visible in the list."""
    if entity.list_columns:
        return list(entity.list_columns)
    shown = [entity.title_field]
    shown += [name for name, param in entity.fields.items()
              if name != entity.title_field and not param.secret]
    return shown[:MAX_COLUMNS]


@dataclass(frozen=True)
class Listing:
    page: RecordPage
    total: int  # records matching the search and filters, on every page
    ref_titles: dict[str, str]  # referenced id -> title (a deleted record's last title)
    deleted_refs: frozenset[str]  # referenced ids whose record is deleted


def fetch(session: Session, entity: Entity, query: ListQuery) -> Listing:
    """One page of records, how many match, and titles for the records its references
    point to (deleted ones too, from their tombstones)."""
    page = list_records(session, entity, query.search, query.filters, query.after, PAGE_SIZE,
                        sort=query.sort, descending=query.descending)
    ref_titles: dict[str, str] = {}
    deleted: set[str] = set()
    for name, target in entity.refs.items():
        ids = [r[name] for r in page.records if r.get(name)]
        live = titles(session, registry.get(target), ids)
        gone = deleted_titles(session, registry.get(target),
                              [i for i in ids if i not in live])
        ref_titles.update(live)
        ref_titles.update(gone)
        deleted.update(gone)
    total = count_matching(session, entity, query.search, query.filters)
    return Listing(page, total, ref_titles, frozenset(deleted))
