"""What the frame of every page shows an admin (the nav's open-conflicts count and the
warning while the last verification found breaks), and the node names pages print.

All are read afresh for every request, though not by queries of their own: their
columns ride on the statement that every signed-in request runs anyway (the reader's
account and session, webapp/auth/reader.py), which hands them to remember(). That read
opens the request, so only a request that changes neither uses it: GET and HEAD, which
resolve no conflict and run no verification. Any other request, and a page shown with
no signed-in reader, reads them when its page asks, after its own writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError

from .audit import lookups
from .audit.replication.models import OPEN
from .audit.replication.tables import conflicts
from .audit.verify import LAST_OUTCOME, RunOutcome, outcome_among
from .extensions import db
from .readends import READS

COUNT_CAP = 1000  # beyond this the nav says "1000+": counting further reads more of the index

# ix_conflicts_status: a bounded index range, on every page.
_OPEN = sa.select(sa.func.count()).select_from(
    sa.select(conflicts.c.conflict_id).where(conflicts.c.status == OPEN)
    .limit(sa.bindparam("cap", type_=sa.Integer)).subquery()).scalar_subquery()
_OPEN_LABEL = "open_conflicts"

# For a statement to select along (its parameters: params()).
COLUMNS = (_OPEN.label(_OPEN_LABEL), *LAST_OUTCOME, *lookups.NODE_NAMES_COLUMNS)
# Built once: building a statement costs more than running it.
_ALONE: sa.Select[Any] = sa.select(*COLUMNS)


@dataclass(frozen=True)
class Chrome:
    open_conflicts: int  # up to COUNT_CAP
    verification: RunOutcome | None  # the last run's; None: never run
    nodes: dict[str, str] | None  # {node id: name}; None: to read apart (see node_names)


def params() -> dict[str, Any]:
    return {"cap": COUNT_CAP}


def among(row: Mapping[str, Any]) -> Chrome:
    """The chrome in a row that holds COLUMNS."""
    return Chrome(int(row[_OPEN_LABEL]), outcome_among(row), lookups.node_names_among(row))


def remember(found: Chrome) -> None:
    """What the signed-in reader's statement read, for this request's page if it is one
    that cannot have changed it since."""
    if request.method in READS:
        g.chrome = found


def current() -> Chrome | None:
    """This request's chrome: as remembered, else read now (once). None when the
    database cannot say (an error page while it is down)."""
    if "chrome" not in g:
        try:
            g.chrome = among(db.session.execute(_ALONE, params()).one()._mapping)
        except SQLAlchemyError:
            db.session.rollback()
            g.chrome = None
    return g.chrome  # type: ignore[no-any-return]


def open_conflicts_count() -> int:
    found = current()
    return found.open_conflicts if found else 0


def last_verification() -> RunOutcome | None:
    found = current()
    return found.verification if found else None


def node_names() -> dict[str, str]:
    """{node id: name} of the nodes this database knows, for this request's page."""
    found = g.get("chrome")
    if found is not None and found.nodes is not None:
        return found.nodes  # type: ignore[no-any-return]
    return lookups.node_names(db.session())


def init_app(app: Flask) -> None:
    @app.context_processor
    def _chrome() -> dict[str, Any]:
        # Called by nav.html, base.html and the dashboard for admins only.
        return {"open_conflicts_count": open_conflicts_count, "conflicts_cap": COUNT_CAP,
                "last_verification": last_verification}
