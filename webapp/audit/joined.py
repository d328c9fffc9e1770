"""A short list read as columns of another statement (the one each page runs anyway: its
reader's, webapp/auth/reader.py), to spare a page a statement of its own: the texts one
column of a query selects, each followed by _END and joined by _SEP into one text; and,
to check that text by, how many there are and how many characters they hold (MySQL
cuts an aggregated text at 1,024 bytes by default; a text holding the separators would
split into a part too many).

The separators are control characters, which no text read this way holds where it
comes from the app (node names, usernames, ids). They are written into the SQL: as
bound values, aggregate_strings would render its separator into the statement again on
every execution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa

_END, _SEP = "\x1d", "\x1e"
_END_SQL, _SEP_SQL = (sa.literal_column(f"'{char}'", sa.String) for char in (_END, _SEP))


def columns(label: str, texts: sa.Select[Any]) -> tuple[sa.Label[Any], ...]:
    """The columns that hold what `texts` (a query of one text column) selects, labelled
    after `label`, for split() to read back."""
    rows = texts.subquery()
    text = rows.c[0]
    return (
        sa.select(sa.func.aggregate_strings(text + _END_SQL, cast(str, _SEP_SQL)))
        .scalar_subquery().label(f"{label}_text"),  # a text, though typed str
        sa.select(sa.func.count()).select_from(rows).scalar_subquery().label(f"{label}_count"),
        sa.select(sa.func.sum(sa.func.char_length(text))).scalar_subquery()
        .label(f"{label}_chars"))


def split(row: Mapping[str, Any], label: str) -> list[str] | None:
    """The texts as a row holding columns(label, ...) has them, in no set order; None when
    the text does not read back for sure (a database that cut it short, or a text that
    holds the separators), for the caller to read them apart."""
    text, count = row[f"{label}_text"], int(row[f"{label}_count"])
    if not text:
        return [] if count == 0 else None
    whole = int(row[f"{label}_chars"] or 0) + count * len(_END) + (count - 1) * len(_SEP)
    if len(text) != whole:  # cut short
        return None
    parts = text[:-len(_END)].split(_END + _SEP)  # a part too many if a text holds both
    return parts if len(parts) == count else None
