"""What a page of events reads beside its events, in the same statement (store.Beside):
each author's username while the account lives, and whether each event is a side of a
conflict. The page then reads labels (audit/labels.py) only for the records its rows
name and the conflicts its sides took part in: most pages read none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..audit import store
from ..audit.idlists import is_token
from ..audit.replication.queries import is_a_side
from ..domain import users


def _columns(page: Any) -> Any:
    accounts = users.table
    return ((accounts.c[users.title_field].label("beside_author_name"),
             is_a_side(page.event_id).label("beside_is_side")),
            ((accounts, accounts.c.id == page.user_id),))


AUTHORS_AND_SIDES = store.Beside(_columns)


def authors(stored: Sequence[Any]) -> dict[str, str]:
    """{user id: username} of the live accounts that wrote the rows (read with
    AUTHORS_AND_SIDES). Only ids that labels would look up too (is_token): MariaDB's
    comparison ignores trailing spaces, so a peer's user id ending in one would match a
    local account there."""
    return {r.user_id: r.beside_author_name for r in stored
            if r.beside_author_name is not None and is_token(r.user_id)}


def is_side(row: Any) -> bool:
    """Whether the row's event is a side of a conflict (read with AUTHORS_AND_SIDES)."""
    return bool(row.beside_is_side)
