"""Command-line tools: `flask node ...`, `flask audit verify|export|snapshot|fetch-snapshot`,
`flask tokens ...`, `flask seed-demo`, `flask unlock-login`."""

from __future__ import annotations

import click
from flask import Flask

from . import demo, demostory, domain_cli, verify_cli
from .audit.errors import AuditError, ParamsError
from .audit.hlc import wall_ms
from .auth import throttle
from .compact_cli import compact_command
from .domain import ROLES, registry
from .export.cli import export_command
from .extensions import db
from .runtime import auditor
from .snapshot_cli import fetch_snapshot_command, snapshot_command
from .sync import cli as sync_cli
from .sync.service import replicator
from .tokens.cli import tokens


def init_app(app: Flask) -> None:
    sync_cli.init_app(app)  # flask node / peers / sync
    domain_cli.init_app(app)  # flask domain init-migrations
    for command in (export_command, snapshot_command, fetch_snapshot_command, compact_command):
        verify_cli.audit.add_command(command)
    app.cli.add_command(verify_cli.audit)  # flask audit verify|export|snapshot|compact|...
    app.cli.add_command(tokens)  # flask tokens issue / list / revoke
    _account_commands(app)  # flask seed-demo / create-user

    @app.cli.command("unlock-login")
    @click.argument("username")
    @click.option("--address", help="Only the failures from this client address.")
    def unlock_login(username: str, address: str | None) -> None:
        """Forget USERNAME's failed logins, so a locked-out user may try again at once."""
        cleared = throttle.clear(db.session(), username, address)
        click.echo(f"Cleared {cleared} failed login(s) of {username.strip().lower()!r}.")

    @app.cli.command("node-info")
    def node_info() -> None:
        """Print this database's node id (creating it on first use)."""
        click.echo(auditor().node_id)


def _account_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the first admin (random password, printed once) if there is no account
        yet, and a demo history if there are no teams yet. Safe to run again."""
        session = db.session()
        seeder = demo.Seeder(auditor(), session)
        if demo.has_records(session, "user"):
            click.echo("Accounts exist: no admin created.")
        else:
            admin, password = demo.create_admin(seeder)
            click.secho("Created the first admin. This password is shown only once:",
                        fg="yellow", bold=True)
            click.secho(f"    username: {admin['username']}    password: {password}", bold=True)
        if "team" not in registry:  # HINDSIGHT_DOMAIN names another domain
            click.echo("The demo history is the default domain's: none seeded.")
            return
        if demo.has_records(session, "team"):
            click.echo("Demo data present: nothing else to do.")
            return
        click.echo("Seeding four weeks of demo history on two demo nodes (every change "
                   "an audited command, signed by its node's key):")
        try:
            passwords = demostory.seed_story(session, replicator(), wall_ms(),
                                             lambda line: click.echo("  " + line))
        except AuditError as exc:
            raise click.ClickException(f"demo data not complete: nothing was seeded "
                                       f"({exc})") from None
        click.echo("Demo accounts (random passwords, shown once):")
        for name, password in passwords.items():
            click.echo(f"    {name:<6} {password}")
        click.secho("Done.", fg="green")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
    @click.option("--email", help="Defaults to USERNAME@example.com.")
    @click.option("--full-name", default="")
    def create_user(username: str, role: str, email: str | None, full_name: str) -> None:
        """Create an account with a random password, printed once."""
        password = demo.random_password()
        params = {"username": username, "email": email or f"{username}@example.com",
                  "full_name": full_name, "role": role, "active": True, "password": password}
        try:
            demo.Seeder(auditor(), db.session()).create("user", params)
        except ParamsError as exc:
            raise click.ClickException(
                "; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
        except AuditError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Created {role} {username!r}. Password (shown once): {password}")
