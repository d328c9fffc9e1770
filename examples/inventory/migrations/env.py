"""Alembic environment of this domain's own tables (kept apart from Hindsight's)."""
from alembic import context

from webapp.domain_schema import run_migrations

run_migrations(context)
