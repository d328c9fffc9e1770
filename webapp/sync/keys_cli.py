"""The key steps of `flask node init` and the key lines of `flask node show`."""

from __future__ import annotations

import click
from flask import current_app

from .. import nodekey
from ..audit import keys
from ..audit.keygen import give_key
from ..audit.keys import NodeKeyError
from ..extensions import db
from ..runtime import auditor


def ensure_key() -> None:
    """Give this node a key if it has none (a new one in the key file, or the one
    HINDSIGHT_NODE_KEY holds) and say what was done; check it if it has one."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    node_id = auditor().node_id
    try:
        private = nodekey.read_private_key(app)
        public = keys.own_public_key(db.session)
        if public is not None:
            status = nodekey.load(app, db.session)
            if status != "loaded":
                raise NodeKeyError(status)
            click.echo(f"key: {keys.fingerprint(public)} (already set)", err=True)
            return
        path = nodekey.key_file(app)
        if private is None:
            private = keys.new_private_key()
            nodekey.write_private_key(path, private)
            where = f"a new private key in {path} (mode 0600)"
        else:
            where = ("the private key in HINDSIGHT_NODE_KEY" if app.config.get("HINDSIGHT_NODE_KEY")
                     else f"the private key already in {path}")
        given = give_key(db.session(), node_id, private)
    except (NodeKeyError, OSError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    nodekey.load(app, db.session)
    db.session.rollback()
    click.echo(f"key: {keys.fingerprint(given.public_key)} -- this node now signs its events "
               f"with {where}", err=True)
    if given.earlier_events:
        click.echo(f"     {given.earlier_events} event(s) it wrote before had no signature: "
                   f"they are verifiable by hash chain only (marked so); its chain head "
                   f"(seq {given.sealed_seq}) is signed now, covering them", err=True)


def key_lines() -> str:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    auditor()
    public = keys.own_public_key(db.session)
    status = nodekey.load(app, db.session)
    db.session.rollback()
    if public is None:
        return f"key:      none ({status})"
    return (f"key:      {keys.fingerprint(public)}\npublic:   {public}\n"
            f"private:  {status}")
