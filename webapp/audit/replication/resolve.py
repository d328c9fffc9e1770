"""Resolving a conflict: an audited command whose version vector dominates every side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..commands import CommandResult
from ..context import AuditContext
from ..service import Auditor


def resolve_conflict(auditor: Auditor, session: Session, conflict_id: str,
                     values: Mapping[str, Any] | None, expected_version: int,
                     ctx: AuditContext | None = None) -> CommandResult:
    """Resolve with `values` (the merged record: fields to set, as a form would post) or
    None (take the deleted side: delete the record). meta={"resolves": conflict_id}."""
    raise NotImplementedError
