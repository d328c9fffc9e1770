"""`flask audit snapshot`: write a snapshot of this node (every record, tombstone and
chain head, at one point of the log) into HINDSIGHT_SNAPSHOT_DIR, with progress.
`flask audit fetch-snapshot PEER -o FILE`: a peer's latest snapshot, over the signed
sync protocol, page by page, checked whole before FILE appears."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .audit import snapshots
from .audit.whole_file import whole_file
from .domain import registry
from .extensions import db
from .progress import Bar
from .sync import peers as peer_store
from .sync.protocol import SyncError
from .sync.service import client_for
from .sync.snapshot_client import fetch


def snapshot_dir() -> Path:
    return Path(current_app.config["HINDSIGHT_SNAPSHOT_DIR"])


@click.command("snapshot")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@with_appcontext
def snapshot_command(quiet: bool) -> None:
    """Snapshot this node's state at one point of its log (it may go on writing)."""
    started, bar = time.perf_counter(), Bar("writing records and tombstones", quiet)
    try:
        path, summary = snapshots.create(db.session(), registry, snapshot_dir(), bar.update)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # e.g. HINDSIGHT_SNAPSHOT_DIR not writable, or a full disk
        raise click.ClickException(f"cannot write the snapshot: {exc}") from None
    finally:
        bar.close()
    click.echo(f"snapshot {summary.snapshot_id}: {summary.records:,} records and "
               f"{summary.tombstones:,} tombstones as of seq {summary.last_seq:,}, "
               f"in {path} ({time.perf_counter() - started:.1f} s)")


@click.command("fetch-snapshot")
@click.argument("peer")
@click.option("-o", "--output", required=True, help="Write the snapshot to this file.")
@with_appcontext
def fetch_snapshot_command(peer: str, output: str) -> None:
    """Fetch PEER's latest snapshot (signed pages, bounded memory) into a file."""
    found = peer_store.get_peer(db.session, peer)
    if found is None or not found.url:
        raise click.UsageError(f"no peer named {peer[:40]!r} with a URL (flask peers list)")
    target = Path(output)
    if not target.parent.is_dir():
        raise click.BadParameter(f"no directory {str(target.parent)!r}", param_hint="-o")
    try:
        with whole_file(target) as out:
            header, end = fetch(client_for(found), out, expect_node=found.node_id)
    except SyncError as exc:
        raise click.ClickException(f"{peer}: {exc}") from None
    click.echo(f"snapshot {header['snapshot_id']} of {peer}: {end['records']:,} records and "
               f"{end['tombstones']:,} tombstones as of its seq {header['last_seq']:,}, "
               f"in {target}")
