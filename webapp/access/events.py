"""Access in the audit trail: logins, failed logins, lockouts, logouts, ended sessions and
refused sync requests, each an audited event of its own kind (a created record of the
`access` entity, declared in domain.py). It runs the normal command path, so it is
chained, signed by this node and replicated like every other event; the timeline shows
it under the entity filter "Access events". Each is also a structured log line.

Nothing here may break what it records: a write that fails is logged and dropped."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import replace

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from ..audit.commands import CreateRecord
from ..audit.context import audit_context, current_context
from ..audit.errors import AuditError
from ..audit.hlc import pack, wall_ms
from ..audit.visible import shown
from ..domain import access_log
from ..extensions import db
from ..runtime import auditor
from .log import log_access

# Kinds an outsider can repeat at will: at most one event per client address a minute,
# and FLOOD_CAP a minute from all addresses together, so that rotating addresses (a /64
# holds 2^64) cannot fill every node's log; every attempt still gets its log line.
ONCE_A_MINUTE = frozenset({"locked_out", "sync_refused"})
FLOOD_CAP = 20


def record_access(kind: str, summary: str, *, username: str | None = None,
                  account_id: str | None = None, session_id: str | None = None,
                  detail: str | None = None, level: int = logging.INFO) -> None:
    log_access(kind, level, username=username, account=account_id, session=session_id,
               detail=detail)
    address = (request.remote_addr or "")[:45]
    if kind in ONCE_A_MINUTE and _flooded(kind, address):
        return
    params = {"summary": shown(summary, 300), "kind": kind,
              "username": shown(username or "", 200), "address": address,
              "session": session_id or "", "detail": shown(detail or "", 500)}
    ctx = current_context()
    ctx = replace(ctx, user_id=account_id or ctx.user_id, session_id=session_id or ctx.session_id)
    try:
        with audit_context(ctx):
            auditor().execute(db.session(), CreateRecord(access_log.name, params))
    except (AuditError, SQLAlchemyError) as exc:
        db.session.rollback()
        log_access("access_event_not_written", logging.ERROR, of=kind, error=str(exc)[:300])


def tried_name(username: str, known: bool) -> str:
    """How a login attempt's username is recorded. An unknown one is often a password
    typed into the wrong box, and access events are replicated to every node and never
    removed: it is recorded as a fingerprint (keyed by this node's secret), the same for
    the same text, so repeated tries still show, never as typed."""
    if known:
        return username
    key = str(current_app.secret_key or "").encode()
    digest = hmac.new(key, username.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return f"unknown username #{digest.hexdigest()[:10]}"


def _flooded(kind: str, address: str) -> bool:
    """This address already has an event of `kind` this past minute, or all addresses
    together have FLOOD_CAP of them."""
    c = access_log.table.c
    since = pack(max(wall_ms() - 60_000, 0), 0)
    mine = db.session.execute(sa.select(c.id).where(
        c.kind == kind, c.address == address, c.hlc >= since).limit(1)).first()
    everyone = [] if mine else db.session.execute(sa.select(c.id).where(
        c.kind == kind, c.hlc >= since).limit(FLOOD_CAP)).all()
    db.session.rollback()
    return mine is not None or len(everyone) >= FLOOD_CAP
