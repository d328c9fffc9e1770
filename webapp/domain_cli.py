"""`flask domain init-migrations [DIR]`: a migrations folder for the served domain's own
tables, used with Flask-Migrate's commands and `-d DIR` (see README, "Your own
records"). Hindsight's own tables keep their migrations (`flask db upgrade`)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click
from flask import Flask

ENV_PY = '''"""Alembic environment of this domain's own tables (kept apart from Hindsight's)."""
from alembic import context

from webapp.domain_schema import run_migrations

run_migrations(context)
'''

ALEMBIC_INI = """# The migrations of a Hindsight domain's own tables: `flask db ... -d THIS_FOLDER`.
[alembic]
file_template = %%(rev)s_%%(slug)s

[loggers]
keys = root,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

# Hindsight's own script template (migrations/script.py.mako), kept here for installs
# without the repository.
SCRIPT_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


def default_folder() -> Path:
    """`migrations/` beside the domain module (the package's folder)."""
    module = importlib.import_module(os.environ["HINDSIGHT_DOMAIN"])
    return Path(module.__file__ or ".").resolve().parent / "migrations"


def init_app(app: Flask) -> None:
    @app.cli.group("domain")
    def domain() -> None:
        """The served domain (HINDSIGHT_DOMAIN): its migrations."""

    @domain.command("init-migrations")
    @click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
    def init_migrations(folder: Path | None) -> None:
        """Make FOLDER (default: migrations/ beside the domain module) a migrations folder
        for the domain's tables. Then: flask db migrate -d FOLDER -m "..."; flask db
        upgrade -d FOLDER."""
        if not os.environ.get("HINDSIGHT_DOMAIN"):
            raise click.ClickException("set HINDSIGHT_DOMAIN to your domain module first")
        folder = folder or default_folder()
        if (folder / "env.py").exists():
            raise click.ClickException(f"{folder} already holds migrations (env.py)")
        (folder / "versions").mkdir(parents=True, exist_ok=True)
        (folder / "env.py").write_text(ENV_PY)
        (folder / "alembic.ini").write_text(ALEMBIC_INI)
        (folder / "script.py.mako").write_text(SCRIPT_MAKO)
        click.echo(f"Made {folder}. Next: flask db migrate -d {folder} -m 'first tables', "
                   f"then flask db upgrade -d {folder}")
