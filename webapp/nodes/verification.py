"""The last verification run with its detail, for the nodes page (every page's warning
reads only its outcome, webapp/chrome.py)."""

from __future__ import annotations

from flask import g
from sqlalchemy.exc import SQLAlchemyError

from ..audit.verify import VerificationRun, last_run
from ..extensions import db


def latest() -> VerificationRun | None:
    """The last run, read at most once per request."""
    if "last_verification" not in g:
        try:
            g.last_verification = last_run(db.session)
        except SQLAlchemyError:  # e.g. an error page while the database is down
            db.session.rollback()
            g.last_verification = None
    return g.last_verification  # type: ignore[no-any-return]
