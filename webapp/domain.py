"""The record types admins edit, each declared once: fields (which build the table, the
params validation and the form), policy, schema version, settings.

Accounts (`user`) are Hindsight's own and always served. The demo entities (team,
project, setting) are the default domain's: with HINDSIGHT_DOMAIN set, the module it
names declares the entities served instead (webapp/domains.py). The demo's tables stay
declared either way, as Hindsight's own migrations create them."""

from __future__ import annotations

import os

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

registry = domains.load(os.environ.get("HINDSIGHT_DOMAIN") or None, users,
                        (teams, projects, settings), ROLES)
