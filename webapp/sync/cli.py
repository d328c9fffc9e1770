"""`flask node ...` and `flask sync` (the `flask peers ...` commands are in peers_cli)."""

from __future__ import annotations

import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ..audit import store
from ..audit.hlc import HybridClock
from ..audit.node import clean_node_name, init_node, load_node, rename_node
from ..audit.replication.errors import ReplicationError
from ..extensions import db
from ..progress import Bar
from . import peers as peer_store
from . import protocol
from .bootstrap import bootstrap_from
from .keys_cli import ensure_key, key_lines
from .peers_cli import peers
from .protocol import SyncError
from .puller import SyncResult, first_line
from .service import replicator, run_sync

node = AppGroup("node", help="This node's identity.")


@node.command("init")
@click.option("--name", required=True, help="A short name shown to admins and peers.")
def node_init(name: str) -> None:
    """Create this database's node id and key if it has none, and print the id. On a
    node made before keys existed it gives the node its key and says what it did."""
    try:
        name = clean_node_name(name)
    except ValueError as exc:
        raise click.UsageError(f"--name: {exc}") from None
    stored = load_node(db.session)
    if stored is not None:
        click.echo(stored[0])
        current = peer_store.node_name(db.session, stored[0])
        hint = "" if current == name else f"; `flask node rename {name}` changes it"
        click.echo(f"(already initialised as {current!r}; the name is unchanged{hint})",
                   err=True)
    else:
        clock = HybridClock(max_drift_ms=current_app.config["HINDSIGHT_MAX_DRIFT_MS"])
        click.echo(init_node(db.session, name, clock))
    ensure_key()


@node.command("rename")
@click.argument("name")
def node_rename(name: str) -> None:
    """Change this node's name; its id, key and events stay. Peers learn the new name
    from this node's next hello."""
    if load_node(db.session) is None:
        raise click.ClickException("this database has no node yet: run `flask node init "
                                   "--name NAME`")
    try:
        old = rename_node(db.session, name)
    except ValueError as exc:
        raise click.UsageError(f"NAME: {exc}") from None
    click.echo(f"renamed {old!r} to {clean_node_name(name)!r}")


@node.command("show")
def node_show() -> None:
    """Print this node's id, name, head seq and peers."""
    if load_node(db.session) is None:  # showing must not make the node (and fix its name)
        raise click.ClickException("this database has no node yet: run `flask node init "
                                   "--name NAME`")
    core = replicator()
    name = peer_store.node_name(db.session, core.node_id)
    click.echo(f"node id:  {core.node_id}\nname:     {name}\n"
               f"head seq: {store.last_seq(db.session)}\n"
               f"peers:    {len(peer_store.list_peers(db.session))}\n{key_lines()}")


class _Bar:
    """A progress bar, shown only when a peer has more than one batch to catch up."""

    def __init__(self, peer: str, batch: int) -> None:
        self.peer, self.batch, self.done = peer, batch, 0
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None and total > self.batch:
            self.bar = click.progressbar(length=total, label=f"catching up from {self.peer}",
                                         show_pos=True)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _sync_all(name: str | None, batch: int, quiet_idle: bool = False) -> list[SyncResult]:
    if name is None:  # pull-only peers (no URL) are served, not pulled
        chosen = [p for p in peer_store.list_peers(db.session) if p.url]
    else:
        found = peer_store.get_peer(db.session, name)
        if found is None:
            raise click.ClickException(f"no peer named {name!r}")
        chosen = [found]
    results = []
    for peer in chosen:
        bar = _Bar(peer.name, batch)
        try:
            results.append(run_sync(peer, progress=bar, limit=batch))
        finally:
            bar.close()
        done = results[-1]
        if not (quiet_idle and done.ok and done.batches == 0):  # a loop says only news
            click.echo(done.summary(), err=not done.ok)
    return results


@click.command("sync")
@with_appcontext
@click.option("--peer", "name", help="Only this peer (default: every peer with a URL).")
@click.option("--loop", is_flag=True, help="Keep pulling, every --interval seconds.")
@click.option("--interval", type=click.FloatRange(0.5, 86400), default=10.0, show_default=True)
@click.option("--batch", type=click.IntRange(1, protocol.MAX_LIMIT),
              default=protocol.DEFAULT_LIMIT, show_default=True)
@click.option("--bootstrap", is_flag=True,
              help="A brand-new node: start from --peer's latest snapshot, then pull.")
def sync_command(name: str | None, loop: bool, interval: float, batch: int,
                 bootstrap: bool) -> None:
    """Pull from peers until caught up. Exits non-zero if a peer's sync was refused or a
    peer could not be reached."""
    if bootstrap:
        _bootstrap(name)
    first = True
    while True:
        try:
            results = _sync_all(name, batch, quiet_idle=loop)
        except Exception as exc:  # a loop outlives any one round (a bad first call does not)
            if first or not loop:
                raise
            click.echo(f"sync round failed: {first_line(exc)}", err=True)
            results = []
        first = False
        if not loop:
            refused = [r.peer for r in results if not r.ok and not r.unreachable]
            away = [r.peer for r in results if r.unreachable]
            said = ([f"sync refused for {', '.join(refused)} (see above; nothing after the "
                     "refusal was applied)"] if refused else []) + (
                [f"could not reach {', '.join(away)} (nothing was pulled from it; try again "
                 "later)"] if away else [])
            if said:
                raise click.ClickException("; ".join(said))
            if not results:
                click.echo("no peers to pull from")
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


def _bootstrap(name: str | None) -> None:
    if name is None:
        raise click.UsageError("--bootstrap needs --peer: the peer whose snapshot to start from")
    found = peer_store.get_peer(db.session, name)
    if found is None or not found.url:
        raise click.ClickException(f"no peer named {name!r} with a URL")
    bar = Bar(f"writing {name}'s snapshot")
    try:
        done = bootstrap_from(found, bar.update)
    except (ValueError, SyncError, ReplicationError) as exc:
        raise click.ClickException(f"bootstrap from {name} refused: {exc}") from None
    finally:
        bar.close()
    click.echo(f"bootstrapped from {name}'s snapshot {done.snapshot_id}: {done.records:,} "
               f"records and {done.tombstones:,} tombstones from its compacted log (through "
               f"seq {done.start_seq:,}); pulling its events after that", err=True)
    if done.replayed:
        click.echo(f"kept and replayed {done.replayed:,} events of this node's own that "
                   f"{name} had not seen ({done.conflicts:,} collided with changes made "
                   "meanwhile)", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(node)
    app.cli.add_command(peers)
    app.cli.add_command(sync_command)

