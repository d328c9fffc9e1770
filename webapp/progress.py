"""Progress of long CLI work on stderr: a bar on a terminal, elsewhere a line at every
tenth of the way (so logs stay short)."""

from __future__ import annotations

import sys
from typing import Any

import click


class Bar:
    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label, self.quiet, self.tty = label, quiet, sys.stderr.isatty()
        self.done, self.tenth = 0, 0
        self.bar: Any = None

    def update(self, done: int, total: int) -> None:
        if self.quiet or total <= 0:
            return
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                             show_pos=True)
                self.bar.__enter__()
            self.bar.update(done - self.done)
        elif (tenth := done * 10 // total) > self.tenth:
            self.tenth = tenth
            click.echo(f"  {self.label}: {done:,} of {total:,} ({done / total:.0%})", err=True)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
