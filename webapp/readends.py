"""How a page's database transaction ends: a request that only read ends it with COMMIT,
not with the ROLLBACK that closing the session sends.

Both leave the database as it was, but on PostgreSQL psycopg forgets every statement it
prepared on a connection when that connection rolls back. Ending every page with a
ROLLBACK meant no statement was ever prepared, and PostgreSQL parsed and planned each
page's statements on every request (`make bench`'s http section: about 40% of
PostgreSQL's CPU per timeline or record page).

Only a GET or HEAD that answered below 400 without an exception, and whose transaction
ran nothing but SELECTs through Session.execute, ends with COMMIT. Every other request
still rolls back whatever it left uncommitted: a statement that is not a SELECT (an
INSERT, UPDATE or DELETE, or any text SQL) marks the transaction as one that wrote.
Statements run on the session's connection or on the driver's cursor are not seen
(audit.db.watch_writes): the audit core's writes, which run that way, run in a unit of
work, which ends its own transaction (commit or rollback) before the request does;
write no other way."""

from __future__ import annotations

import logging

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from .audit.db import end_reads, watch_writes
from .extensions import db

log = logging.getLogger(__name__)
READS = ("GET", "HEAD")  # requests that change nothing (chrome.py and along.py read ahead)


def init_app(app: Flask) -> None:
    watch_writes(db.session)  # the extension's session class: every app's, once

    @app.after_request
    def _answered(response: Response) -> Response:
        g.read_answered = request.method in READS and response.status_code < 400
        return response

    # Runs when the view has returned (for a streamed response, before its first chunk:
    # a stream reads through a session of its own) and before Flask-SQLAlchemy closes
    # the session.
    @app.teardown_request
    def _end(exc: BaseException | None) -> None:
        if exc is not None or not g.pop("read_answered", False):
            return
        session = db.session()
        if not session.in_transaction():
            return
        try:
            end_reads(session)  # a transaction that wrote still rolls back
        except SQLAlchemyError as error:  # the session's close rolls back what is left
            log.warning("ending a read transaction failed: %s", error)
