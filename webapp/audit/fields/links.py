"""URL: a web address people can follow: http or https, a host, no user name or
password in it (a classic way to disguise where a link goes), nothing invisible."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..params import Invalid, Param, _text

SCHEMES = ("http", "https")
_SPACE_OR_BACKSLASH = re.compile(r"[\s\\]")
# The common shape, checked in one match: scheme, a plain host (no user name), a port,
# then a path, query or fragment. Anything else takes urlsplit's slower, fuller look.
_PLAIN = re.compile(r"((?i:https?))://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
                    r"(?::([0-9]{1,5}))?(?:[/?#][^@]*)?")


@dataclass(frozen=True)
class URL(Param):
    max_length: int = 2000
    kind: ClassVar[str] = "url"

    def check(self) -> None:
        super().check()
        if not 12 <= self.max_length <= 2000:
            raise ValueError(f"max_length must be from 12 to 2000 (got {self.max_length})")

    def clean(self, value: Any) -> str:
        text = _text(value, False)
        if len(text) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if _SPACE_OR_BACKSLASH.search(text):
            raise Invalid("must not contain spaces or backslashes")
        plain = _PLAIN.fullmatch(text)
        if plain and int(plain.group(2) or 0) <= 65535:
            return plain.group(1).lower() + text[len(plain.group(1)):]
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            raise Invalid("is not a valid web address") from None
        if parts.scheme.lower() not in SCHEMES:
            raise Invalid("must start with http:// or https://")
        if not parts.hostname:
            raise Invalid("must name a host, e.g. https://example.com/")
        if parts.username is not None or parts.password is not None:
            raise Invalid("must not contain a user name or password")
        return parts.scheme.lower() + text[len(parts.scheme):]

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length)
