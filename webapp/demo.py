"""Accounts for `flask seed-demo` and `flask create-user`: commands run as a given user,
each as its own 'request'; and the demo's longer texts (the story is in demostory.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from .audit.commands import CreateRecord, DeleteRecord, UpdateRecord
from .audit.context import AuditContext, audit_context
from .audit.ids import new_ulid
from .audit.records import list_records
from .audit.service import Auditor
from .domain import registry

Echo = Callable[[str], None]


def random_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, about 96 bits


def has_records(session: Session, entity: str) -> bool:
    return bool(list_records(session, registry.get(entity), limit=1).records)


class Seeder:
    """Runs commands as a given user, each as its own 'request' with its own ids."""

    def __init__(self, auditor: Auditor, session: Session) -> None:
        self.auditor, self.session = auditor, session

    def _run(self, command: Any, by: str | None) -> dict[str, Any]:
        ctx = AuditContext(user_id=by or "system", request_id=new_ulid(),
                           session_id=f"seed-{by or 'system'}"[:64],
                           trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8))
        with audit_context(ctx):
            result = self.auditor.execute(self.session, command)
        return result.record or {}

    def create(self, entity: str, params: dict[str, Any], by: str | None = None) -> dict[str, Any]:
        return self._run(CreateRecord(entity, params), by)

    def update(self, entity: str, record: dict[str, Any], params: dict[str, Any],
               by: str | None = None) -> dict[str, Any]:
        return self._run(UpdateRecord(entity, record["id"], record["version"], params), by)

    def delete(self, entity: str, record: dict[str, Any], by: str | None = None) -> None:
        self._run(DeleteRecord(entity, record["id"], record["version"]), by)


def create_admin(seeder: Seeder, username: str = "admin") -> tuple[dict[str, Any], str]:
    password = random_password()
    admin = seeder.create("user", {"username": username, "email": f"{username}@example.com",
                                   "full_name": "First Admin", "role": "admin",
                                   "active": True, "password": password})
    return admin, password


PLATFORM = """The platform team runs the shared infrastructure.

We own the deploy pipeline, the databases and the on-call rota.
Ask in #platform before changing anything in production."""

APOLLO = """Move every service to the new cluster.

Phase 1: staging services.
Phase 2: internal tools.
Phase 3: customer-facing services, one per week.

Rollback plan: keep the old cluster warm for two weeks."""
