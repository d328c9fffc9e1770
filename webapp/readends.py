"""How a page's database transaction ends: a request that only read ends it with COMMIT,
not with the ROLLBACK that closing the session sends.

Both leave the database as it was, but on PostgreSQL psycopg forgets every statement it
prepared on a connection when that connection rolls back. Ending every page with a
ROLLBACK meant no statement was ever prepared, and PostgreSQL parsed and planned each
page's statements on every request (`make bench`'s http section: about 40% of
PostgreSQL's CPU per timeline or record page).

Only a GET or HEAD that answered below 400 without an exception, and whose session holds
no unflushed change, ends with COMMIT; every other request still rolls back. Writers
commit their own work (the unit of work, the session store), so nothing commits here
that a request meant to throw away."""

from __future__ import annotations

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from .audit.db import end_reads
from .extensions import db

READS = ("GET", "HEAD")


def init_app(app: Flask) -> None:
    @app.after_request
    def _answered(response: Response) -> Response:
        g.read_answered = request.method in READS and response.status_code < 400
        return response

    # Runs after the response (a streamed one included: stream_with_context keeps the
    # request open until its last chunk) and before Flask-SQLAlchemy closes the session.
    @app.teardown_request
    def _end(exc: BaseException | None) -> None:
        if exc is not None or not g.pop("read_answered", False):
            return
        session = db.session()
        if not session.in_transaction() or session.new or session.dirty or session.deleted:
            return
        try:
            end_reads(session)
        except SQLAlchemyError:
            session.rollback()
