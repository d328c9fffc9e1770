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
from ..audit.records import RecordPage, list_records, titles
from ..domain import registry
from ..forms_factory import ref_choices

PAGE_SIZE = 25
MAX_COLUMNS = 5


@dataclass
class ListQuery:
    search: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    raw_filters: dict[str, str] = field(default_factory=dict)  # as typed, for the URL
    after: str | None = None

    def url_args(self, after: str | None = None) -> dict[str, str]:
        args = {k: v for k, v in self.raw_filters.items() if v}
        if self.search:
            args["q"] = self.search
        if after:
            args["after"] = after
        return args


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
    """The declared list columns; by default the title first, then short, non-secret
    fields."""
    if entity.list_columns:
        return list(entity.list_columns)
    shown = [entity.title_field]
    for name, param in entity.fields.items():
        if name == entity.title_field or param.secret:
            continue
        if isinstance(param, p.Text) and param.multiline:
            continue
        shown.append(name)
    return shown[:MAX_COLUMNS]


def fetch(session: Session, entity: Entity, query: ListQuery) -> tuple[RecordPage, dict[str, str]]:
    """One page of records, and titles for the records its references point to."""
    page = list_records(session, entity, query.search, query.filters, query.after, PAGE_SIZE)
    ref_titles: dict[str, str] = {}
    for name, target in entity.refs.items():
        ids = [r[name] for r in page.records if r.get(name)]
        ref_titles.update(titles(session, registry.get(target), ids))
    return page, ref_titles
