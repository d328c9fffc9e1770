"""The record types admins edit, each declared once: fields (which build the table, the
params validation and the form), policy, schema version, settings.

Accounts (`user`) and the access log (`access`) are Hindsight's own and always served.
The demo entities (team, project, setting) are the default domain's: with
HINDSIGHT_DOMAIN set, the module it names declares the entities served instead
(webapp/domains.py). The demo's tables stay
declared either way, as Hindsight's own migrations create them."""

from __future__ import annotations

import os

import sqlalchemy as sa

from . import domains
from .audit.entity import Entity, Policy
from .audit.params import Boolean, Choice, Email, Key, Password, Ref, Slug, Text

ROLES = ("viewer", "editor", "admin")


def edit_role(entity_name: str) -> str:
    """The role needed to create, edit or delete records of an entity (its declaration's
    `edit_role`, default editor). Accounts are `user` records: only admins manage them."""
    return registry.get(entity_name).edit_role if entity_name in registry else "editor"


users = Entity(
    name="user",
    label="User",
    fields={
        "username": Slug(label="Username", max_length=40, unique=True),
        "email": Email(label="Email", unique=True),
        "full_name": Text(label="Full name", max_length=120, required=False),
        "role": Choice(label="Role", choices=ROLES),
        "active": Boolean(label="Can log in"),
        "password": Password(label="Password", required=False),
    },
    policy=Policy.MANUAL,
    title_field="username",
    search_fields=("username", "email", "full_name"),
    filter_fields=("role", "active"),
    edit_role="admin",
)

teams = Entity(
    name="team",
    label="Team",
    fields={
        "slug": Slug(label="Slug", max_length=40, unique=True),
        "name": Text(label="Name", max_length=120),
        "description": Text(label="Description", max_length=4000, required=False,
                             multiline=True),
    },
    policy=Policy.MANUAL,
    title_field="name",
    search_fields=("slug", "name", "description"),
)

projects = Entity(
    name="project",
    label="Project",
    fields={
        "name": Text(label="Name", max_length=120),
        "team_id": Ref(label="Team", entity="team"),
        "status": Choice(label="Status", choices=("planned", "active", "paused", "done")),
        "budget": Text(label="Budget note", max_length=200, required=False),
        "description": Text(label="Description", max_length=4000, required=False,
                            multiline=True),
    },
    policy=Policy.LWW,
    title_field="name",
    search_fields=("name", "description"),
    filter_fields=("status", "team_id"),
)

settings = Entity(
    name="setting",
    label="Setting",
    fields={
        "key": Key(label="Key", unique=True),
        "value": Text(label="Value", max_length=2000, required=False, multiline=True),
    },
    policy=Policy.LWW,
    title_field="key",
    search_fields=("key", "value"),
)


# The access log: logins, failed logins, lockouts, logouts, ended sessions and refused
# sync requests, one audited event each (webapp/access/events.py writes them). Not a
# record anyone edits: each is created once, and shown on the timeline, not in the nav.
ACCESS_KINDS = ("login", "login_failed", "locked_out", "logout", "sessions_ended",
                "sync_refused")
access_log = Entity(
    name="access",
    label="Access",
    plural="Access events",
    table_name="access_log",
    fields={
        "summary": Text(label="What happened", max_length=300),
        "kind": Choice(label="Kind", choices=ACCESS_KINDS),
        "username": Text(label="Username given", max_length=200, required=False),
        "address": Text(label="Client address", max_length=45, required=False),
        "session": Text(label="Session", max_length=26, required=False),
        "detail": Text(label="Detail", max_length=500, required=False),
    },
    policy=Policy.LWW,
    title_field="summary",
    system=True,
)
# Finds the last lockout or refused sync of an address quickly (one event per minute each),
# and the last minute's of every address (access/events.py FLOOD_CAP).
sa.Index("ix_access_log_kind", access_log.table.c.kind, access_log.table.c.address,
         access_log.table.c.hlc)
sa.Index("ix_access_log_recent", access_log.table.c.kind, access_log.table.c.hlc)

# Hindsight's own entities (accounts and the access log) are served whatever the domain.
registry = domains.load(os.environ.get("HINDSIGHT_DOMAIN") or None, (users, access_log),
                        (teams, projects, settings), ROLES)
