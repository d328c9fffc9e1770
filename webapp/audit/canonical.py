"""Canonical JSON: one byte-exact text per value, so hashes and parity checks agree.

The text is json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
for every value events hold (text, whole numbers, true/false, null, lists, objects with
text keys). orjson writes exactly that text about ten times faster, and every event
needs ~8 of them; whatever orjson refuses (a whole number beyond 64 bits, a non-text
key, an unpaired surrogate) goes to the standard library, so the text never changes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_SORT = orjson.OPT_SORT_KEYS


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_SORT).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _ENCODER.encode(value)


def loads(text: str | None) -> Any:
    """The value of a stored document, as the standard library reads it. orjson reads
    several times faster (a batch or a page decodes thousands), but reads a whole number
    beyond 64 bits as a float and refuses what the standard library takes (NaN, an
    unpaired surrogate): events hold no floats, so a float, or a refusal, sends the text
    to the standard library, and the value never differs."""
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_float(value) else value


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        return kind is float
    kinds = set(map(type, items))  # most documents are flat: one pass in C
    if float in kinds:
        return True
    return (dict in kinds or list in kinds) and any(
        _has_float(v) for v in items if type(v) in _NESTED)


_NESTED = (dict, list)


def loads_vector(text: str) -> dict[str, int]:
    """A version vector ({node id: count}): orjson reads these flat documents several
    times faster; a count beyond 64 bits (which it would read as a float) goes to the
    standard library."""
    found = orjson.loads(text)
    if isinstance(found, dict) and all(type(v) is int for v in found.values()):
        return found
    return dict(json.loads(text))


def sha256_hex(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x1f")
    return digest.hexdigest()
