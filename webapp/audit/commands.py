"""Commands: all inputs of one create, update or delete of one record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from . import canonical
from .errors import ParamsError
from .events import ChangeEvent, Op
from .ids import new_ulid

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


@dataclass(frozen=True)
class CreateRecord:
    entity: str
    params: Mapping[str, Any]
    record_id: str = field(default_factory=new_ulid)
    idempotency_key: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    op = Op.CREATED
    expected_version = 0


@dataclass(frozen=True)
class UpdateRecord:
    entity: str
    record_id: str
    expected_version: int
    params: Mapping[str, Any]
    idempotency_key: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    op = Op.UPDATED


@dataclass(frozen=True)
class DeleteRecord:
    entity: str
    record_id: str
    expected_version: int
    idempotency_key: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    op = Op.DELETED
    params: Mapping[str, Any] = field(default_factory=dict)


Command = CreateRecord | UpdateRecord | DeleteRecord


@dataclass(frozen=True)
class CommandResult:
    event: ChangeEvent | None  # None when an update changed nothing
    record: dict[str, Any] | None  # the record after the command; None after a delete
    replayed: bool = False  # True when an earlier command with the same key answered


MAX_META_BYTES = 16_384  # the meta column is a TEXT: 64 KiB on MariaDB, kept well inside


def check_meta(meta: object) -> dict[str, Any]:
    """A command's meta as events store it and peers accept it: a small flat JSON object
    of text, whole numbers, true/false or null. Raises ParamsError{"meta": ...}."""
    if not isinstance(meta, Mapping):
        raise ParamsError({"meta": "must be a mapping of names to values"})
    doc: dict[str, Any] = {}
    for key, value in meta.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise ParamsError({"meta": "names must be text of 1 to 64 characters"})
        if not (value is None or isinstance(value, str | bool)
                or (isinstance(value, int) and abs(value) <= 2**63)):
            raise ParamsError({"meta": "values must be text, whole numbers, true/false or null"})
        doc[key] = value
    try:
        size = len(canonical.dumps(doc).encode())
    except UnicodeEncodeError:
        raise ParamsError({"meta": "must not contain unpaired surrogate characters"}) from None
    if size > MAX_META_BYTES:
        raise ParamsError({"meta": f"must be at most {MAX_META_BYTES} bytes as JSON"})
    return doc


def _shown(params: Mapping[str, Any], secret: AbstractSet[str]) -> str:
    # Secret fields are left out: a password hash is salted afresh on every try.
    return canonical.dumps({k: v for k, v in params.items() if k not in secret})


def fingerprint(entity: str, op: str, record_id: str, params: Mapping[str, Any],
                secret: AbstractSet[str]) -> str:
    """What makes two commands 'the same' for an idempotency key. A create's id is left
    out, because a resubmitted form mints a new one."""
    shown_id = "" if op == Op.CREATED else record_id
    return canonical.sha256_hex(entity, op, shown_id, _shown(params, secret))


def idempotency_key(command: Command, cleaned: Mapping[str, Any], secret: AbstractSet[str]) -> str:
    key = command.idempotency_key
    if key is None:
        return "auto:" + canonical.sha256_hex(
            command.entity, command.op, command.record_id, str(command.expected_version),
            _shown(cleaned, secret))
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        raise ParamsError({"idempotency_key": "must be 1 to 100 printable characters"})
    return key
