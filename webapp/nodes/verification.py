"""The last verification run, for pages: the nodes page shows it, and every page shows
admins a warning while the last run found breaks (read once per page, only for them)."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
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


def init_app(app: Flask) -> None:
    @app.context_processor
    def _verification() -> dict[str, Any]:
        return {"last_verification": latest}  # called by base.html for admins only
