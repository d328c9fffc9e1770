"""Errors raised by the audit core. The web layer maps them to HTTP codes in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AuditError(Exception):
    """Base of every error the core raises on purpose."""


class ClockDriftError(AuditError):
    """A remote timestamp lies further ahead of our wall clock than the allowed drift."""


class HLCFormatError(AuditError, ValueError):
    """A timestamp that is not a valid 64-bit HLC or its printed form."""


class ParamsError(AuditError):
    """Command parameters failed validation; `errors` maps a field name to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class UnknownEntityError(AuditError):
    """A command or event names an entity that is not registered."""


class NotFoundError(AuditError):
    """The record a command targets does not exist (or was deleted)."""


class StaleVersionError(AuditError):
    """The command was built on an older version of the record than the current one."""

    def __init__(self, entity: str, record_id: str, expected: int, current: dict[str, Any] | None):
        self.entity = entity
        self.record_id = record_id
        self.expected = expected
        self.current = current
        now = current["version"] if current else "deleted"
        super().__init__(
            f"{entity} {record_id} is at version {now}, the command expected version {expected}"
        )


class IdempotencyKeyReuseError(AuditError):
    """An idempotency key already used for a different command."""


class IntegrityRuleError(AuditError):
    """A business rule across records refused the command (e.g. a referenced record is gone)."""


class UpcastError(AuditError):
    """An entity's upcaster failed on a stored document (a declaration bug): named by
    entity, versions and, where known, the event, instead of a bare KeyError."""

    def __init__(self, entity: str, from_version: int, cause: Exception,
                 where: str = "") -> None:
        self.entity, self.from_version, self.cause = entity, from_version, cause
        super().__init__(f"{entity} upcaster {from_version}\u2192{from_version + 1} failed"
                         f"{where}: {type(cause).__name__} {cause}")

    def on(self, where: str) -> UpcastError:
        """The same failure, saying where: " on event <id>", " on this event"."""
        return UpcastError(self.entity, self.from_version, self.cause, where)
