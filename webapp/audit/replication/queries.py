"""Reads of conflicts for the conflicts page and the timeline badges."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from .models import OPEN, Conflict


def list_conflicts(session: Session, status: str | None = OPEN, entity: str | None = None,
                   node_id: str | None = None, limit: int = 100) -> list[Conflict]:
    """Newest first. status: "open", "resolved" or None (open and resolved); node_id: a
    conflict with a side from that origin node."""
    raise NotImplementedError


def get_conflict(session: Session, conflict_id: str) -> Conflict | None:
    raise NotImplementedError


def open_conflict_ids_for_events(session: Session, event_ids: Iterable[str]) -> dict[str, str]:
    """event_id -> id of the open conflict it is a side of (for timeline badges)."""
    raise NotImplementedError
