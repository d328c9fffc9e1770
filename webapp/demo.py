"""Demo history for `flask seed-demo`: accounts, teams, projects and settings, each
edited several times by different users, all through audited commands, so every page
(lists, timelines, diffs, record pages) has something to show."""

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


def seed_history(seeder: Seeder, echo: Echo) -> dict[str, str]:
    """Demo accounts (random passwords, returned) and edited records."""
    passwords: dict[str, str] = {}
    people: dict[str, dict[str, Any]] = {}
    echo("[1/4] accounts")
    for name, role, full in (("alice", "editor", "Alice Martin"), ("bob", "editor", "Bob Chen"),
                             ("carol", "viewer", "Carol Diaz"), ("dave", "admin", "Dave Okafor")):
        passwords[name] = random_password()
        people[name] = seeder.create("user", {
            "username": name, "email": f"{name}@example.com", "full_name": full, "role": role,
            "active": True, "password": passwords[name]})
    alice, bob, dave = (people[n]["id"] for n in ("alice", "bob", "dave"))
    carol = seeder.update("user", people["carol"], {"full_name": "Carol Díaz-Ortega"}, dave)
    seeder.update("user", carol, {"role": "editor"}, dave)
    eve = seeder.create("user", {"username": "eve", "email": "eve@example.com",
                                 "full_name": "Eve (left)", "role": "editor", "active": True}, dave)
    seeder.update("user", eve, {"active": False}, dave)

    echo("[2/4] teams")
    platform = seeder.create("team", {"slug": "platform", "name": "Platform",
                                      "description": PLATFORM}, alice)
    platform = seeder.update("team", platform, {"description": PLATFORM.replace(
        "the databases", "the databases, the message queue").replace(
        "#platform", "#platform-help")}, bob)
    data = seeder.create("team", {"slug": "data", "name": "Data",
                                  "description": "Reporting and analytics."}, bob)
    data = seeder.update("team", data, {"name": "Data & Insights"}, alice)
    design = seeder.create("team", {"slug": "design", "name": "Design"}, alice)

    echo("[3/4] projects")
    apollo = seeder.create("project", {"name": "Apollo migration", "team_id": platform["id"],
                                       "status": "planned", "description": APOLLO}, alice)
    apollo = seeder.update("project", apollo, {"status": "active"}, bob)
    apollo = seeder.update("project", apollo, {"description": APOLLO.replace(
        "one per week", "two per week").replace("two weeks", "one month"),
        "budget": "120k, approved in Q2"}, alice)
    dash = seeder.create("project", {"name": "KPI dashboard", "team_id": data["id"],
                                     "status": "active", "budget": "20k"}, bob)
    dash = seeder.update("project", dash, {"status": "paused",
                                           "budget": "20k (frozen until review)"}, alice)
    seeder.update("project", dash, {"status": "active", "team_id": platform["id"]}, bob)
    brand = seeder.create("project", {"name": "Brand refresh <v2>", "team_id": design["id"],
                                      "status": "planned"}, alice)
    seeder.update("project", brand, {"status": "done"}, bob)
    scratch = seeder.create("project", {"name": "Scratch experiment", "team_id": design["id"],
                                        "status": "planned"}, bob)
    seeder.delete("project", scratch, alice)

    echo("[4/4] settings")
    smtp = seeder.create("setting", {"key": "mail.smtp_host", "value": "smtp.internal"}, alice)
    smtp = seeder.update("setting", smtp, {"value": "smtp.eu.internal"}, bob)
    seeder.update("setting", smtp, {"value": "smtp-relay.eu.internal:587"}, alice)
    banner = seeder.create("setting", {"key": "ui.banner", "value":
                                       "Maintenance on Saturday 02:00-04:00 UTC."}, dave)
    seeder.update("setting", banner, {"value": "Maintenance on Sunday 02:00-05:00 UTC.\n"
                                      "Expect short outages of the dashboard."}, alice)
    retention = seeder.create("setting", {"key": "audit.retention_days", "value": "365"}, dave)
    seeder.update("setting", retention, {"value": "730"}, dave)
    legacy = seeder.create("setting", {"key": "legacy.flag", "value": "on"}, bob)
    seeder.delete("setting", legacy, alice)
    return passwords
