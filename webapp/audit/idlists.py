"""IN lists of ids: a batch's reads, and most of replication's reads and deletes.

How a list is best passed depends on the database, never what the statement means:
- PostgreSQL spends milliseconds binding and planning 500 bound parameters, and
  rendering them as literals costs ~3 µs each in Python; one text parameter split into
  an array on the server (`= ANY(string_to_array(:ids, ','))`) costs neither, and the
  statement stays the same for the driver to prepare. (A list parameter would have
  psycopg check every element for quoting: as costly again.)
- MariaDB gets the list written into the statement, and only lists of tokens are:
  ULIDs and hex digests, which a type refuses to render unless they are plain letters
  and digits.
- SQLite binds lists faster than it parses them and keeps bound parameters.

The core reads a batch's records by id with these, and replication most of its rows."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

_ONE_TOKEN = r"[0-9A-Za-z]{1,64}"
_TOKEN = re.compile(_ONE_TOKEN)
_TOKEN_LIST = re.compile(rf"{_ONE_TOKEN}(?:,{_ONE_TOKEN})*")


class Token(sa.types.TypeDecorator[str]):
    """A string that may be written into SQL because it is only letters and digits."""

    impl = sa.String
    cache_ok = True

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        if not isinstance(value, str) or not _TOKEN.fullmatch(value):
            raise ValueError(f"not an id or digest: {str(value)[:40]!r}")
        return value


class TokenList(sa.types.TypeDecorator[list[str]]):
    """A list of tokens bound as one comma-separated text."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str:
        text = ",".join(value)  # n tokens joined: letters and digits in n comma-free runs
        if value and (text.count(",") != len(value) - 1 or not _TOKEN_LIST.fullmatch(text)):
            raise ValueError("an id list holds something other than ids or digests")
        return text


def is_token(value: object) -> bool:
    """Whether `value` may go in an id list: an id or digest (letters and digits). Ids of
    records and events are ULIDs; anything else is the id of no row."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def one_of(column: Any, name: str, style: str) -> sa.ColumnElement[bool]:
    """`column IN (the list bound as `name`)`, passed the way `style` (list_style) says."""
    if style == "array":
        listed = sa.func.string_to_array(sa.bindparam(name, type_=TokenList()), ",")
        return column == sa.any_(listed)  # type: ignore[no-any-return]
    return column.in_(sa.bindparam(name, type_=Token(), expanding=True,  # type: ignore[no-any-return]
                                   literal_execute=style == "inline"))


def list_style(db: Session | sa.Connection) -> str:
    """How id lists are best passed on this database: "bind", "array" or "inline"."""
    bind = db if isinstance(db, sa.Connection) else db.get_bind()
    return {"sqlite": "bind", "postgresql": "array"}.get(bind.dialect.name, "inline")
