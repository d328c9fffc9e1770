"""Who and where a command runs for, carried by contextvars (right across threads,
asyncio tasks and outside any request: CLI, jobs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

# W3C Trace Context: lowercase hex only; a version above 00 may append "-" and more fields.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?",
                          re.DOTALL)
# The widths of the change_events columns that store each field.
FIELD_WIDTHS = {"user_id": 64, "request_id": 64, "client_ip": 45, "session_id": 64,
           "tenant_id": 64, "trace_id": 32, "span_id": 16}


@dataclass(frozen=True)
class AuditContext:
    user_id: str | None = None
    request_id: str | None = None
    client_ip: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None

    def __post_init__(self) -> None:
        # Values often come from request headers: drop control characters and cut them to
        # their column width, so a hostile header can neither break nor bloat an event.
        for name, width in FIELD_WIDTHS.items():
            value = getattr(self, name)
            if value is not None:
                if type(value) is str and 0 < len(value) <= width and value.isprintable():
                    continue  # the usual case: already clean (a ULID, an address, hex)
                text = "".join(ch for ch in str(value) if ch.isprintable())[:width]
                object.__setattr__(self, name, text or None)

    def with_traceparent(self, header: str | None) -> AuditContext:
        parsed = parse_traceparent(header)
        if parsed is None:
            return self
        return replace(self, trace_id=parsed[0], span_id=parsed[1])


SYSTEM = AuditContext(user_id="system")
_current: ContextVar[AuditContext] = ContextVar("hindsight_audit_context", default=SYSTEM)


def current_context() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(ctx: AuditContext) -> Iterator[AuditContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def parse_traceparent(header: str | None) -> tuple[str, str] | None:
    """(trace_id, span_id) from a W3C traceparent header, or None if it is not valid.
    All-zero ids and version ff are invalid per the W3C Trace Context spec."""
    if not header:
        return None
    match = _TRACEPARENT.fullmatch(header.strip())
    if not match:
        return None
    version, trace_id, span_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if set(trace_id) == {"0"} or set(span_id) == {"0"}:
        return None
    return trace_id, span_id
