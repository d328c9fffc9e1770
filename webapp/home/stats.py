"""Reads for the dashboard: record counts per entity (counted again when the log moves).
The open conflicts and the last verification are every page's (webapp/chrome.py)."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from ..audit.entity import Entity
from ..audit.records import count_records
from ..domain import registry

# Counted per log position: every change of a record is an event (here or applied from
# a peer), so the counts change only when the log does. A count(*) over each entity's
# table is a scan PostgreSQL repeats per view (~15 ms of its CPU at 1,000,000 events).
# Records written without an event of their own (a node bootstrapped from a snapshot)
# show within COUNTS_FOR_S all the same.
_COUNTS: dict[tuple[object, ...], list[tuple[Entity, int]]] = {}
_COUNTS_KEPT = 16
COUNTS_FOR_S = 60


def entity_counts(session: Session, log_position: tuple[object, ...]) -> list[tuple[Entity, int]]:
    """Live records per entity, counted again when `log_position` changes (what
    identifies this database's log and how far it has gone: its nodes' ids and the
    roll-up's counted seq, which every home view first brings up to the log's head),
    and at least every COUNTS_FOR_S seconds."""
    key = (*log_position, int(time.monotonic() // COUNTS_FOR_S))
    found = _COUNTS.get(key)
    if found is None:
        if len(_COUNTS) >= _COUNTS_KEPT:
            _COUNTS.clear()
        found = _COUNTS[key] = [(entity, count_records(session, entity))
                                for entity in registry if not entity.system]
    return found


