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

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
_INTEGER = re.compile(r"\s*[-+]?[0-9]{1,19}\s*")
_INT64 = 2**63 - 1
# Unicode categories Cc (control) and Cs (a lone surrogate, e.g. from a JSON "\ud800"
# escape, which cannot be encoded to UTF-8), as character classes: one C-speed scan per
# value instead of a category lookup per character. Multiline text keeps \t, \n and \r.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Invisible and text-direction characters (Unicode Cf that reorder or hide text: the
# bidi embeddings, overrides and isolates, zero-width spaces and joiners, the BOM): a
# name that shows as "admin" but is not, or text that reads backwards on the page.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                        r"\u2066-\u206f\ufeff\ufff9-\ufffb]")
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

    def check(self) -> None:
        """Refuse a declaration that cannot work (ValueError saying why); the entity
        adds its own name and the field's. Types with settings add their checks."""
        if not isinstance(self.label, str) or not isinstance(self.help, str):
            raise ValueError("label and help must be text")

    def display(self, value: Any) -> str:
        """A stored (non-empty) value as plain text for people: lists, diffs, exports."""
        return str(value)

    def blank(self, value: Any) -> bool:
        return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: Any, multiline: bool) -> str:
    if not isinstance(value, str):
        raise Invalid("must be text")
    text = unicodedata.normalize("NFC", value)
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(text):
        raise Invalid("must not contain control characters")
    if _INVISIBLE.search(text):
        raise Invalid("must not contain invisible or text-direction characters")
    return text.replace("\r\n", "\n").strip() if multiline else text.strip()


@dataclass(frozen=True)
class Text(Param):
    max_length: int = 200
    min_length: int = 0
    multiline: bool = False
    kind: ClassVar[str] = "text"

    def check(self) -> None:
        super().check()
        if not 0 <= self.min_length <= self.max_length or self.max_length < 1:
            raise ValueError(f"lengths must satisfy 0 <= min_length <= max_length, 1 <= "
                             f"max_length (got {self.min_length}, {self.max_length})")

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
        text = _text(value, False).lower()
        if len(text) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if not _SLUG.match(text):
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
        text = _text(value, False).lower()
        if len(text) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if not _KEY.match(text):
            raise Invalid("use dotted lowercase words, e.g. mail.smtp_host")
        return text

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(self.max_length)


@dataclass(frozen=True)
class Email(Param):
    kind: ClassVar[str] = "email"

    def clean(self, value: Any) -> str:
        text = _text(value, False)
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
    """One of fixed values. `choices` lists the stored values, or (value, label) pairs
    (or a {value: label} dict) when people should read a label other than the value."""

    choices: Any = ()  # normalised to tuple[str, ...] of stored values
    labels: tuple[tuple[str, str], ...] = field(default=(), init=False)  # (value, label)
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        given = self.choices.items() if isinstance(self.choices, Mapping) else self.choices
        pairs = tuple((c, c) if isinstance(c, str) else tuple(c) for c in given)
        object.__setattr__(self, "choices", tuple(pair[0] for pair in pairs))
        object.__setattr__(self, "labels", pairs)

    def check(self) -> None:
        super().check()
        if not self.choices:
            raise ValueError("a Choice needs at least one choice")
        for pair in self.labels:
            if len(pair) != 2 or not all(isinstance(x, str) and x.strip() for x in pair):
                raise ValueError(f"choice {pair!r} must be a value or a (value, label) of text")
            if pair[0] != pair[0].strip() or _CONTROL.search(pair[0]) or len(pair[0]) > 100:
                raise ValueError(f"choice value {pair[0]!r} must be trimmed text of at most "
                                 "100 characters")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("choice values must be distinct")

    def label_of(self, value: Any) -> str:
        return next((label for v, label in self.labels if v == value), str(value))

    def display(self, value: Any) -> str:
        return self.label_of(value)

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

    def check(self) -> None:
        super().check()
        bounds = (self.min_value, self.max_value)
        if not all(type(b) is int and -_INT64 <= b <= _INT64 for b in bounds):
            raise ValueError("min_value and max_value must be whole numbers within 64 bits")
        if self.min_value > self.max_value:
            raise ValueError(f"min_value {self.min_value} is above max_value {self.max_value}")

    def column_type(self) -> sa.types.TypeEngine[Any]:
        if -(2**31) <= self.min_value and self.max_value < 2**31:
            return sa.Integer()
        return sa.BigInteger()


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

    def check(self) -> None:
        super().check()
        if not isinstance(self.entity, str) or not self.entity:
            raise ValueError("a Ref names the entity it refers to (entity=...)")

    def clean(self, value: Any) -> str:
        text = _text(value, False).upper()
        if not is_ulid(text):
            raise Invalid("must be the id of an existing record")
        return text

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(26)


@dataclass(frozen=True)
class Password(Param):
    """Cleartext in, a salted scrypt hash out: the cleartext is never stored or logged."""

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
