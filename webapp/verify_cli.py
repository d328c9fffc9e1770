"""`flask audit verify`: check this node's whole log, print every break, record the run.

Exit 0: every chain is complete, linked and signed (or hash-chained only, before keys),
and every record matches its events. Exit 1: breaks were found (each printed on stdout).
Progress goes to stderr: a bar on a terminal, a line every tenth otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from flask.cli import AppGroup

from .audit import keys
from .audit.verify import Break, Summary, record_run, verify_log
from .audit.verify.verifier import CHAINS
from .domain import registry
from .extensions import db

audit = AppGroup("audit", help="The audit log itself.")
KEPT = 20  # breaks stored with the run for the nodes page


class _Progress:
    """A bar per phase on a terminal; elsewhere a line at every tenth of the way."""

    def __init__(self, quiet: bool) -> None:
        self.quiet, self.tty = quiet, sys.stderr.isatty()
        self.phase, self.shown, self.done = "", -1, 0
        self.bar: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.done, self.shown = phase, 0, -1
            what = "hash chains and signatures" if phase == CHAINS else "records and tombstones"
            if self.tty:
                self.bar = click.progressbar(length=max(total, 1), label=f"checking {what}",
                                             file=sys.stderr, show_pos=True)
                self.bar.__enter__()
            else:
                click.echo(f"checking {what} of {total:,} events", err=True)
        if self.bar is not None:
            self.bar.update(done - self.done)
        elif total and (tenth := done * 10 // total) > self.shown:
            self.shown = tenth
            click.echo(f"  {self.phase}: {done:,} of {total:,} events ({done / total:.0%})",
                       err=True)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@audit.command("verify")
@click.option("--show", type=click.IntRange(0, 1_000_000), default=1000, show_default=True,
              help="Print at most this many breaks (all are counted).")
@click.option("--every-signature", is_flag=True,
              help="Check every signature, not only those the proof needs (slower).")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def verify_command(show: int, every_signature: bool, quiet: bool) -> None:
    """Verify every origin's hash chain and signatures, and every record against its
    events. Prints each break; exits 1 if any was found."""
    session = db.session()
    summary, shown = Summary(), 0
    first: list[Break] = []
    started = time.time()
    progress = _Progress(quiet)
    try:
        for found in verify_log(session, registry, summary, keys=keys.public_keys(session),
                                verify=keys.verify_signature, fingerprint=keys.fingerprint,
                                progress=progress, every_signature=every_signature):
            if shown < show:
                progress.close()  # a bar and a printed line do not mix
                click.echo(found.line())
                shown += 1
            if len(first) < KEPT:
                first.append(found)
    finally:
        progress.close()
    record_run(session, int(started * 1000), int(time.time() * 1000), summary, first)
    hidden = sum(summary.breaks.values()) - shown
    if hidden > 0:
        click.echo(f"... and {hidden:,} more break(s) not shown (--show)")
    elapsed = time.time() - started
    click.echo(f"{summary.line()} ({elapsed:.1f} s)", err=not summary.ok)
    if not summary.ok:
        raise click.exceptions.Exit(1)
