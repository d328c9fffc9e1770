"""Old password hashes (scrypt, or argon2id at other costs) are stored again in the
current form at the next successful login: the only moment the cleartext is at hand. The
new hash is an audited change of the account like any other, made by its owner."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from ..audit.commands import UpdateRecord
from ..audit.context import audit_context, current_context
from ..audit.errors import AuditError
from ..audit.passwords import needs_rehash
from ..extensions import db
from ..runtime import auditor

log = logging.getLogger(__name__)


def upgrade_hash(record: dict[str, Any], password: str) -> dict[str, Any]:
    """`record` with its password hash in the current form (stored), or as it was."""
    if not needs_rehash(record["password"]):
        return record
    command = UpdateRecord("user", record["id"], record["version"], {"password": password},
                           meta={"reason": "password rehashed at login"})
    try:
        with audit_context(replace(current_context(), user_id=record["id"])):
            result = auditor().execute(db.session(), command)
    except AuditError as exc:  # a concurrent edit: the next login tries again
        log.warning("password rehash of user %s skipped: %s", record["id"], exc)
        return record
    return result.record or record
