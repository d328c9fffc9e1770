"""Command-line tools: `flask node ...`, `flask seed-demo`."""

from __future__ import annotations

import click
from flask import Flask

from .runtime import auditor
from .sync import cli as sync_cli


def init_app(app: Flask) -> None:
    sync_cli.init_app(app)  # flask node / peers / sync
    @app.cli.command("node-info")
    def node_info() -> None:
        """Print this database's node id (creating it on first use)."""
        click.echo(auditor().node_id)
