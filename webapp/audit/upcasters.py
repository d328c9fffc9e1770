"""Upcasters for the common changes of a declaration, so old events read as the current
schema: `upcasters={1: added("note"), 2: renamed("price", "unit_price")}`.

One schema version may make several changes at once: `combined(renamed(...),
added(...), removed(...))` is one upcaster that applies them in order.

An upcaster gets a stored state (a whole record: it has an "id") or params (only the
fields a command asked for). A field added to the record is added to states only: old
commands did not ask for it."""

from __future__ import annotations

from typing import Any

from .entity import Upcaster


def added(name: str, default: Any = None) -> Upcaster:
    def upcast(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, name: default} if "id" in doc and name not in doc else doc
    return upcast


def renamed(old: str, new: str) -> Upcaster:
    def upcast(doc: dict[str, Any]) -> dict[str, Any]:
        if old not in doc:
            return doc
        renamed_doc = {k: v for k, v in doc.items() if k != old}
        renamed_doc[new] = doc[old]
        return renamed_doc
    return upcast


def removed(name: str) -> Upcaster:
    def upcast(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != name}
    return upcast


def combined(*steps: Upcaster) -> Upcaster:
    """The changes of one schema version bump, applied in the order given."""
    def upcast(doc: dict[str, Any]) -> dict[str, Any]:
        for step in steps:
            doc = step(doc)
        return doc
    return upcast
