"""`flask peers ...`. Secrets come from a file or an environment variable, never from
the command line (it would stay in shell history)."""

from __future__ import annotations

import os
from typing import IO

import click
from flask.cli import AppGroup

from ..extensions import db
from . import peers as peer_store
from .service import peer_statuses
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
@click.option("--key", "key", metavar="FINGERPRINT",
              help="The peer's key fingerprint (from its `flask node show`): any other key "
                   "it announces is refused.")
@click.option("--insecure", is_flag=True,
              help="Accept a plain http:// URL to another host (sync then travels in clear "
                   "text: password hashes and emails included).")
def peers_add(name: str, url: str | None, secret_file: IO[str] | None,
              secret_env: str | None, key: str | None, insecure: bool) -> None:
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
        peer = peer_store.add_peer(db.session, name, url, secret, key, insecure)
    except peer_store.PeerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added peer {peer.name} ({peer.url or 'pull-only'}), key id {peer.key_id}"
               + (f", node key pinned to {peer.key_fingerprint}" if peer.key_fingerprint else ""))


@peers.command("remove")
@click.argument("name")
def peers_remove(name: str) -> None:
    """Remove peer NAME (what was pulled from it stays)."""
    try:
        peer_store.remove_peer(db.session, name)
    except peer_store.PeerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed peer {name}")


@peers.command("list")
def peers_list() -> None:
    """One line per peer: URL, node id, cursor, lag, last success, last error."""
    statuses = peer_statuses()
    if not statuses:
        click.echo("no peers; add one with `flask peers add NAME URL --secret-file FILE`")
    for s in statuses:
        peer = s.peer
        lag = "-" if s.lag is None else s.lag
        success = s.last_success.strftime("%Y-%m-%d %H:%M:%S") if s.last_success else "-"
        click.echo(f"{peer.name}\t{peer.url or 'pull-only'}\tnode={peer.node_id or '?'}\t"
                   f"cursor={s.cursor}\tlag={lag}\tlast_success={success}\t"
                   f"error={peer.last_error or '-'}")
