"""The Alembic environment of a domain's own tables, kept apart from Hindsight's.

A domain declared with HINDSIGHT_DOMAIN owns its tables; Hindsight's own migrations
(migrations/, `flask db upgrade`) own the rest. Each side's autogenerate sees only its
own tables, and each records its revision in its own version table, so the two
histories never mix. A domain's migrations folder holds a two-line env.py that calls
`run_migrations` here (made by `flask domain init-migrations`, see domain_cli.py)."""

from __future__ import annotations

import logging
import os
from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from flask import current_app

from .audit.fields import columns
from .audit.tables import metadata
from .domain import registry, users

VERSION_TABLE = "hindsight_domain_version"
logger = logging.getLogger("alembic.env")


def domain_tables() -> frozenset[str]:
    """The served domain's tables: empty for the default domain, whose demo tables are
    Hindsight's own (its migration 0001 makes them)."""
    if not os.environ.get("HINDSIGHT_DOMAIN"):
        return frozenset()
    return frozenset(e.table_name for e in registry if e is not users)


def _owned_by(tables: frozenset[str], mine: bool) -> Any:
    def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                       compare_to: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        if table == VERSION_TABLE or (type_ == "table" and name == "alembic_version"):
            return False
        return (table in tables) == mine
    return include_object


def domain_include_object() -> Any:
    """Only the served domain's tables (its autogenerate, and checks that compare it)."""
    return _owned_by(domain_tables(), mine=True)


def hindsight_include_object() -> Any:
    """For Hindsight's own env.py: everything but the served domain's tables."""
    return _owned_by(domain_tables(), mine=False)


def render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    """The field types' columns by their own class (IsoDate(), ExactDecimal(12, 2)), so a
    generated migration makes on each database the column the declaration makes."""
    if type_ == "type" and isinstance(obj, sa.types.TypeDecorator) \
            and type(obj).__module__ == columns.__name__:
        autogen_context.imports.add("from webapp.audit.fields import columns")
        if isinstance(obj, columns.ExactDecimal):
            return f"columns.ExactDecimal({obj.precision}, {obj.scale})"
        return f"columns.{type(obj).__name__}()"
    return False


def run_migrations(context: Any) -> None:
    """env.py of a domain's migrations folder: `run_migrations(alembic.context)`."""
    tables = domain_tables()
    if not tables:
        raise SystemExit("domain migrations are for the domain HINDSIGHT_DOMAIN names; set it "
                         "(the default domain's tables are Hindsight's: `flask db upgrade`)")
    config = context.config
    if config.config_file_name and os.path.exists(config.config_file_name):
        fileConfig(config.config_file_name)

    def skip_empty(ctx: Any, revision: Any, directives: list[Any]) -> None:
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in the domain's tables detected.")

    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=metadata, version_table=VERSION_TABLE,
            include_object=domain_include_object(), render_item=render_item,
            compare_type=True, process_revision_directives=skip_empty,
            render_as_batch=True)  # generated anywhere, runs on all three (SQLite copies)
        with context.begin_transaction():
            context.run_migrations()
