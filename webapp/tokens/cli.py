"""`flask tokens issue|list|revoke`: API tokens from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from . import service

tokens = AppGroup("tokens", help="API tokens for /api/events.")


@tokens.command("issue")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'SIEM import'.")
def issue_command(username: str, name: str) -> None:
    """Issue a token acting as USERNAME; it is printed once, and only its hash is kept."""
    try:
        token_id, token = service.issue(db.session(), username, name, created_by="cli")
    except service.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Issued token {token_id} for {username.strip().lower()!r} "
               "(shown only now; send it as 'Authorization: Bearer <token>'):", err=True)
    click.echo(token)


@tokens.command("list")
def list_command() -> None:
    """Every token: id, account, name, state and last use (never the token)."""
    found = service.list_tokens(db.session())
    if not found:
        click.echo("No API tokens.")
    for t in found:
        used = t.last_used.isoformat(timespec="seconds") if t.last_used else "never used"
        state = f"revoked {t.revoked.isoformat(timespec='seconds')}" if t.revoked else "active"
        click.echo(f"{t.id}  {t.username:<20} {t.name:<30} {t.hint}...  {state:<10} {used}")


@tokens.command("revoke")
@click.argument("token_id")
def revoke_command(token_id: str) -> None:
    """Revoke the token with id TOKEN_ID (from `flask tokens list`): it stops working now."""
    try:
        revoked = service.revoke(db.session(), token_id)
    except service.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked token {revoked.id} ({revoked.name}) of {revoked.username}.")
