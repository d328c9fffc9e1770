"""`flask peers ...`. Secrets come from a file or an environment variable, never from
the command line (it would stay in shell history)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import IO

import click
from flask.cli import AppGroup

from ..extensions import db
from . import peers as peer_store
from .service import replicator
from .signing import new_secret

peers = AppGroup("peers", help="The nodes this node pulls from and serves.")


@peers.command("secret")
def peers_secret() -> None:
    """Print a new random secret to share with one peer (both sides add it)."""
    click.echo(new_secret())


@peers.command("add")
@click.argument("name")
@click.argument("url", required=False)
@click.option("--secret-file", type=click.File("r"), help="File holding the secret ('-': stdin).")
@click.option("--secret-env", metavar="VAR", help="Environment variable holding the secret.")
def peers_add(name: str, url: str | None, secret_file: IO[str] | None,
              secret_env: str | None) -> None:
    """Add peer NAME at URL (leave URL out for a peer that only pulls from this node)."""
    if (secret_file is None) == (secret_env is None):
        raise click.UsageError("give exactly one of --secret-file or --secret-env")
    if secret_env is not None:
        if not os.environ.get(secret_env):
            raise click.UsageError(f"environment variable {secret_env} is not set or empty")
        secret = os.environ[secret_env]
    else:
        secret = secret_file.read(1000)  # type: ignore[union-attr]
    try:
        peer = peer_store.add_peer(db.session, name, url, secret)
    except peer_store.PeerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added peer {peer.name} ({peer.url or 'pull-only'}), key id {peer.key_id}")


@peers.command("remove")
@click.argument("name")
def peers_remove(name: str) -> None:
    """Remove peer NAME (what was pulled from it stays)."""
    try:
        peer_store.remove_peer(db.session, name)
    except peer_store.PeerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed peer {name}")


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


@peers.command("list")
def peers_list() -> None:
    """One line per peer: URL, node id, cursor, lag, last success, last error."""
    core = replicator()
    found = peer_store.list_peers(db.session)
    if not found:
        click.echo("no peers; add one with `flask peers add NAME URL --secret-file FILE`")
    for peer in found:
        cursor = core.cursor(db.session, peer.node_id) if peer.node_id else 0
        lag = "-" if peer.head_seq is None else max(peer.head_seq - cursor, 0)
        click.echo(f"{peer.name}\t{peer.url or 'pull-only'}\tnode={peer.node_id or '?'}\t"
                   f"cursor={cursor}\tlag={lag}\tlast_success={_when(peer.last_success_ms)}\t"
                   f"error={peer.last_error or '-'}")
    db.session.rollback()
