"""ULIDs for event ids, record ids and node ids."""

from __future__ import annotations

import re

from ulid import ULID

_ULID_TEXT = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_ulid() -> str:
    return str(ULID())


def is_ulid(text: object) -> bool:
    return isinstance(text, str) and bool(_ULID_TEXT.fullmatch(text))
