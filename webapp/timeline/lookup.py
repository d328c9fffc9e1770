"""Timeline filters read against this database (usernames, node names and record ids
resolved): one parse for the timeline page, its export, the CLI and /api/events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, tzinfo

from sqlalchemy.orm import Session

from ..audit.lookups import entity_of_record, id_by_field, node_names
from ..domain import registry, users
from . import filters


def resolvers(session: Session, by_name: Mapping[str, str]) -> filters.Resolvers:
    """`by_name`: {node name: node id}, as the caller has read it."""
    return filters.Resolvers(
        user_id=lambda name: id_by_field(session, users, "username", name.lower()),
        node_id=by_name.get,
        record_entity=lambda rid: entity_of_record(session, [e.name for e in registry], rid),
    )


def parse(session: Session, args: Mapping[str, str],
          zone: tzinfo = UTC) -> filters.TimelineQuery:
    """Raises filters.BadFilterError with the reason. Typed times without an offset are
    read in `zone`: the reader's on the web, UTC for scripts (CLI and /api/events)."""
    by_name = {name: node_id for node_id, name in node_names(session).items()}
    return filters.parse(args, [e.name for e in registry], resolve=resolvers(session, by_name),
                         zone=zone)
