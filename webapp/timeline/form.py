"""What the timeline's filter form shows: the values as typed, the date pickers' values
and the presets in the reader's zone, and the known users to choose from."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..along import Along, value
from ..audit import joined
from ..domain import users
from . import filters
from .pickers import picker_value, preset_starts

MAX_USERS = 500  # a choice list beyond this would not be read; the URL still takes any name


# Built once: every whole timeline page reads it, along with its reader (webapp/along.py).
_USERNAMES = sa.select(users.table.c.username).order_by(users.table.c.username) \
    .limit(MAX_USERS)


def usernames(session: Session) -> list[str]:
    """The known usernames, in order (the first MAX_USERS)."""
    # all(), not iteration: one fetch of the hundreds of rows rather than one per row.
    return sorted(session.execute(_USERNAMES).scalars().all())


def _usernames_among(row: Mapping[str, Any]) -> list[str] | None:
    found = joined.split(row, "usernames")
    return sorted(found) if found is not None else None


USERNAMES = Along(joined.columns("usernames", _USERNAMES), _usernames_among, usernames)


def form_values(args: Mapping[str, str], nodes: Mapping[str, str], zone: tzinfo,
                zone_name: str) -> dict[str, Any]:
    """The form as the page shows it; `nodes` is {node id: name}."""
    by_name = {name: node_id for node_id, name in nodes.items()}
    form: dict[str, Any] = {k: args.get(k, "")[:filters.MAX_LEN] for k in filters.FIELDS}
    form["node"] = by_name.get(form["node"], form["node"].upper())  # a name or an id
    known = value(USERNAMES)
    if form["user"] and form["user"] not in known:
        known.append(form["user"])  # keep a typed (or linked) user selected
    kept = {k: v for k, v in args.items() if k in filters.FIELDS and k not in ("from", "to")
            and v}
    form.update(users=known, zone=zone_name,
                from_picker=picker_value(form["from"], False, zone),
                to_picker=picker_value(form["to"], True, zone),
                presets=[(label, {**kept, "from": start})
                         for label, start in preset_starts(datetime.now(UTC), zone)])
    return form
