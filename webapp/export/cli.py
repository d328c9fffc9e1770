"""`flask audit export --format csv|jsonl [filters] [-o FILE]`: the timeline's events,
with its filters, to a file or stdout. Progress goes to stderr. A file is written under
a temporary name and renamed when complete, so a failed export leaves nothing behind."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click
from flask.cli import with_appcontext

from ..audit import store
from ..audit.verify.verifier import snapshot as consistent_read
from ..audit.whole_file import whole_file
from ..extensions import db
from ..progress import Bar
from ..timeline import lookup
from ..timeline.filters import BadFilterError
from .stream import FORMATS, chunks


@contextmanager
def _target(output: str | None) -> Iterator[IO[bytes]]:
    if output is None or output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    if not path.parent.is_dir():
        raise click.BadParameter(f"no directory {str(path.parent)!r}", param_hint="-o")
    with whole_file(path) as out:
        yield out


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), required=True,
              help="csv (one row per event) or jsonl (one JSON document per line).")
@click.option("--entity", help="Only this entity's events (e.g. team).")
@click.option("--record", help="Only this record's events (its id).")
@click.option("--user", help="Only events by this user (username or stored user id).")
@click.option("--node", help="Only events that happened on this node (name or id).")
@click.option("--op", help="Only this operation: created, updated or deleted.")
@click.option("--from", "since", help="From this time (UTC unless it says): 2024-05-01[T14:30].")
@click.option("--to", "until", help="Up to this time, inclusive to its precision.")
@click.option("-o", "--output", help="Write to this file (default: stdout).")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@with_appcontext
def export_command(fmt: str, entity: str | None, record: str | None, user: str | None,
                   node: str | None, op: str | None, since: str | None, until: str | None,
                   output: str | None, quiet: bool) -> None:
    """Export the timeline's events (newest first), with the timeline's filters."""
    given = {"entity": entity, "record": record, "user": user, "node": node, "op": op,
             "from": since, "to": until}
    session = db.session()
    try:
        query = lookup.parse(session, {k: v for k, v in given.items() if v is not None})
    except BadFilterError as exc:
        raise click.UsageError(str(exc)) from None
    consistent_read(session)  # the count and every batch see the same log
    total = 0 if query.nothing else store.count(session, query.filters)
    if not quiet:
        click.echo(f"exporting {total:,} events as {fmt}", err=True)
    started, bar, done = time.perf_counter(), Bar("exporting", quiet), [0]

    def progress(n: int) -> None:
        done[0] += n
        bar.update(done[0], total)

    try:
        with _target(output) as out:
            for chunk in chunks(session, query, fmt, progress):
                out.write(chunk)
    finally:
        bar.close()
        session.rollback()
    if not quiet:
        where = "stdout" if output in (None, "-") else output
        click.echo(f"exported {done[0]:,} events to {where} "
                   f"({time.perf_counter() - started:.1f} s)", err=True)
