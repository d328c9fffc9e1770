"""Typed command parameters. Each type validates and normalises one raw value (from a
form, JSON or the CLI) and says which column stores it. Messages are for end users."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from .errors import ParamsError
from .ids import is_ulid
from .passwords import hash_password
from .tables import LongText
from .visible import MESSAGE as VISIBLE_MESSAGE
from .visible import hides_text

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
_INTEGER = re.compile(r"\s*-?[0-9]{1,12}\s*")
# Unicode categories Cc (control) and Cs (a lone surrogate, e.g. from a JSON "\ud800"
# escape, which cannot be encoded to UTF-8), as character classes: one C-speed scan per
# value instead of a category lookup per character. Multiline text keeps \t, \n and \r.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_MISSING = object()


class Invalid(ValueError):
    """One value is not acceptable; the message is shown next to its field."""


@dataclass(frozen=True)
class Param:
    label: str = ""
    required: bool = True
    unique: bool = False
    secret: bool = False  # shown redacted in timelines and diffs
    help: str = ""
    kind: ClassVar[str] = "text"

    def clean(self, value: Any) -> Any:
        raise NotImplementedError

    def column_type(self) -> sa.types.TypeEngine[Any]:
        raise NotImplementedError

    def blank(self, value: Any) -> bool:
        return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: Any, multiline: bool, identifier: bool = False) -> str:
    """Text as stored: NFC, no control characters, nothing that hides or reorders text
    (visible.py; identifiers are held to the stricter set), trimmed."""
    if not isinstance(value, str):
        raise Invalid("must be text")
    text = unicodedata.normalize("NFC", value)
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(text):
        raise Invalid("must not contain control characters")
    if hides_text(text, identifier):
        raise Invalid(VISIBLE_MESSAGE)
    return text.replace("\r\n", "\n").strip() if multiline else text.strip()


@dataclass(frozen=True)
class Text(Param):
    max_length: int = 200
    min_length: int = 0
    multiline: bool = False
    kind: ClassVar[str] = "text"

    def clean(self, value: Any) -> str:
        text = _text(value, self.multiline)
        if len(text) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters (got {len(text)})")
        if len(text) < self.min_length:
            raise Invalid(f"must be at least {self.min_length} characters")
        return text

    def column_type(self) -> sa.types.TypeEngine[Any]:
        if self.max_length <= 1000:
            return sa.String(self.max_length)
        # MariaDB's TEXT holds 65535 bytes, and a character takes up to 4 of them.
        return sa.Text() if self.max_length <= 65535 // 4 else LongText


@dataclass(frozen=True)
class Slug(Param):
    max_length: int = 64
    kind: ClassVar[str] = "slug"

    def clean(self, value: Any) -> str:
        text = _text(value, False, identifier=True).lower()
        if len(text) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if not _SLUG.fullmatch(text):
            raise Invalid("use lowercase letters, digits and single hyphens (e.g. team-red)")
        return text

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length)


@dataclass(frozen=True)
class Key(Param):
    """A dotted settings key such as `mail.smtp_host`."""

    max_length: int = 100
    kind: ClassVar[str] = "key"

    def clean(self, value: Any) -> str:
        text = _text(value, False, identifier=True).lower()
        if len(text) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if not _KEY.fullmatch(text):
            raise Invalid("use dotted lowercase words, e.g. mail.smtp_host")
        return text

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length)


@dataclass(frozen=True)
class Email(Param):
    kind: ClassVar[str] = "email"

    def clean(self, value: Any) -> str:
        text = _text(value, False, identifier=True)
        if len(text) > 254:
            raise Invalid("must be at most 254 characters")
        try:
            result = validate_email(text, check_deliverability=False)
        except EmailNotValidError as exc:
            raise Invalid(f"is not a valid email address: {exc}") from None
        return str(result.normalized).lower()

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(254)


@dataclass(frozen=True)
class Choice(Param):
    choices: tuple[str, ...] = ()
    kind: ClassVar[str] = "choice"

    def clean(self, value: Any) -> str:
        if value not in self.choices:
            raise Invalid(f"must be one of: {', '.join(self.choices)}")
        return str(value)

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(max(len(c) for c in self.choices))


@dataclass(frozen=True)
class Integer(Param):
    min_value: int = -(2**31)
    max_value: int = 2**31 - 1
    kind: ClassVar[str] = "integer"

    def clean(self, value: Any) -> int:
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("must be a whole number")
        if not self.min_value <= value <= self.max_value:
            raise Invalid(f"must be between {self.min_value} and {self.max_value}")
        return value

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Integer()


@dataclass(frozen=True)
class Boolean(Param):
    required: bool = False
    kind: ClassVar[str] = "boolean"

    def blank(self, value: Any) -> bool:
        return value is None

    def clean(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "on", "yes", "1", "y"}:
            return True
        if isinstance(value, str) and value.lower() in {"false", "off", "no", "0", "n", ""}:
            return False
        raise Invalid("must be yes or no")

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()


@dataclass(frozen=True)
class Ref(Param):
    """The id of a live record of another entity; existence is checked by the handler."""

    entity: str = ""
    kind: ClassVar[str] = "ref"

    def clean(self, value: Any) -> str:
        text = _text(value, False).upper()
        if not is_ulid(text):
            raise Invalid("must be the id of an existing record")
        return text

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(26)


@dataclass(frozen=True)
class Password(Param):
    """Cleartext in, an argon2id hash out: the cleartext is never stored or logged."""

    min_length: int = 10
    secret: bool = True
    kind: ClassVar[str] = "password"

    def clean(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("must be text")
        if any(unicodedata.category(ch) == "Cs" for ch in value):
            raise Invalid("must not contain unpaired surrogate characters")
        if len(value) < self.min_length:
            raise Invalid(f"must be at least {self.min_length} characters")
        if len(value) > 256:
            raise Invalid("must be at most 256 characters")
        return hash_password(value)

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(200)


@dataclass(frozen=True)
class ParamSet:
    """The declared fields of one entity, validated together."""

    fields: Mapping[str, Param] = field(default_factory=dict)

    def clean(self, raw: Mapping[str, Any], partial: bool) -> dict[str, Any]:
        """Validate `raw`. On create (`partial=False`) every required field must be there;
        on update only the fields given are checked. Raises ParamsError with all errors."""
        if not isinstance(raw, Mapping):
            raise ParamsError({"_": "parameters must be a mapping of field names to values"})
        errors: dict[str, str] = {}
        cleaned: dict[str, Any] = {}
        for name in raw:
            if name not in self.fields:
                errors[str(name)[:64]] = "is not a field of this record"
        for name, param in self.fields.items():
            value = raw.get(name, _MISSING)
            if value is _MISSING and partial:
                continue
            if value is _MISSING or param.blank(value):
                if param.required:
                    errors[name] = "is required"
                elif not partial or value is not _MISSING:
                    cleaned[name] = False if isinstance(param, Boolean) else None
                continue
            try:
                cleaned[name] = param.clean(value)
            except Invalid as exc:
                errors[name] = str(exc)
        if errors:
            raise ParamsError(errors)
        return cleaned
