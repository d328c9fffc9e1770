"""`flask audit compact [--dry-run]`: remove the events this node's latest snapshot
covers and every peer has acknowledged (or older than HINDSIGHT_RETENTION_DAYS), in
one transaction, with progress. --dry-run shows what would go per entity and origin,
and what keeps the rest (which peer has not acknowledged it)."""

from __future__ import annotations

import json
import time
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from .audit import hlc, snapshots
from .audit.compaction.plan import Plan, SnapshotPoint, plan_compaction, snapshot_mismatch
from .audit.compaction.points import arrived_before, mark_arrival
from .audit.compaction.run import compact
from .audit.ids import new_ulid
from .audit.lookups import node_names
from .audit.node import lock_node
from .domain import registry
from .extensions import db
from .progress import Bar
from .runtime import auditor
from .snapshot_cli import snapshot_dir
from .sync.acks import acknowledged

DAY_MS = 86_400_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def latest_snapshot_point(node_id: str) -> SnapshotPoint:
    """The header of this node's latest snapshot; ClickException when there is none."""
    try:
        path = snapshots.latest(snapshot_dir())
    except snapshots.SnapshotNotFoundError as exc:
        raise click.ClickException(f"{exc}: compaction removes only what a snapshot "
                                   "covers") from None
    with path.open("rb") as stream:
        header = json.loads(stream.readline())
    if header.get("node_id") != node_id:
        raise click.ClickException(f"the latest snapshot {path.name} is not this node's")
    _check_matches(header, path.name)
    return SnapshotPoint(header["snapshot_id"], node_id, int(header["last_seq"]),
                         int(header["created_ms"]))


def _check_matches(header: dict[str, Any], name: str) -> None:
    problem = snapshot_mismatch(db.session(), int(header["last_seq"]),
                                header.get("heads", {}).get(header["node_id"]))
    db.session.rollback()
    if problem:
        raise click.ClickException(f"the latest snapshot {name} {problem}: take a new one")


@click.command("compact")
@click.option("--dry-run", is_flag=True, help="Show what would go and what keeps the rest.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@with_appcontext
def compact_command(dry_run: bool, quiet: bool) -> None:
    """Remove the log a snapshot covers and every peer has acknowledged."""
    session = db.session()
    point = latest_snapshot_point(auditor().node_id)
    days = current_app.config.get("HINDSIGHT_RETENTION_DAYS")
    now = now_ms()
    mark_arrival(session, now)  # retention goes by when events arrived here
    session.commit()
    # The node's write lock, as every audited transaction and batch apply takes it first:
    # no event is written while the plan is made and carried out (and the plan reads
    # one state of the log).
    lock_node(session)()
    retention_seq = arrived_before(session, now - days * DAY_MS) if days else None
    plan = plan_compaction(session, point, acknowledged(session, auditor().node_id),
                           retention_seq)
    _describe(plan, node_names(session), days)
    if dry_run or plan.events == 0:
        session.rollback()
        click.echo("nothing removed (dry run)" if dry_run else "nothing to remove")
        return
    started, bar = time.perf_counter(), Bar("removing events", quiet)
    try:
        result = compact(session, plan, new_ulid(), now, bar.update)
        session.commit()
    except SQLAlchemyError as exc:  # e.g. SQLite: another writer went first (a busy snapshot)
        session.rollback()
        raise click.ClickException(f"compaction failed and removed nothing: "
                                   f"{str(exc).splitlines()[0][:300]}") from None
    except BaseException:
        session.rollback()
        raise
    finally:
        bar.close()
    click.echo(f"removed {result.events_removed:,} events through seq {result.through_seq:,}; "
               f"{result.records_noted:,} records keep their base event; "
               f"{result.tombstones_removed:,} tombstones every node has seen removed "
               f"({time.perf_counter() - started:.1f} s)")
    # A new snapshot at once: what peers bootstrap from must hold the bases and start
    # where the log now starts (an older one would send them to events that are gone).
    bar = Bar("writing the snapshot after compaction", quiet)
    try:
        path, summary = snapshots.create(session, registry, snapshot_dir(), bar.update)
    finally:
        bar.close()
    click.echo(f"snapshot {summary.snapshot_id} written after compaction, in {path}")


def _describe(plan: Plan, names: dict[str, str], days: int | None) -> None:
    def origin(node_id: str) -> str:
        return f"{names.get(node_id) or '?'} ({node_id})"

    s = plan.snapshot
    click.echo(f"snapshot {s.snapshot_id} covers this log through seq {s.last_seq:,} "
               f"(taken {hlc.format_hlc(hlc.pack(s.created_ms))[:19]}Z)")
    if not plan.blockers:
        click.echo("every peer has acknowledged what the snapshot covers")
    for b in plan.blockers:
        state = ("its cursor on this log is unknown (it has never pulled from this node): "
                 "it blocks compaction by acknowledgement" if b.acked_seq is None else
                 f"acknowledged seq {b.acked_seq:,}: it keeps the events after that")
        click.echo(f"peer {b.peer}: {state}")
    click.echo("retention: off (HINDSIGHT_RETENTION_DAYS unset)" if days is None else
               f"retention: {days} days: events that arrived here more than {days} days ago "
               f"(through seq {plan.retention_seq or 0:,}) go even if a peer has not "
               "acknowledged them (it will need the snapshot)")
    click.echo(f"would remove {plan.events:,} events:" if plan.events else
               "would remove no events")
    for entity, node, n in plan.removable:
        click.echo(f"  {entity:<20} from {origin(node)}: {n:,}")
    for why, entity, node, n in plan.kept:
        click.echo(f"kept for {why}: {entity} from {origin(node)}: {n:,}")
