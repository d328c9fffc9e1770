"""This node's private key: read from HINDSIGHT_NODE_KEY (64 hex digits, the raw
Ed25519 private key) or from a PEM file readable by its owner only (default
instance/node_key.pem, or HINDSIGHT_NODE_KEY_FILE). Never stored in the database, never
logged, never shown: only its public half and fingerprint are."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from flask import Flask
from sqlalchemy.orm import Session

from .audit import keys
from .audit.keys import NodeKeyError

_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
STATUS = "hindsight.node_key_status"


def key_file(app: Flask) -> Path:
    configured = app.config.get("HINDSIGHT_NODE_KEY_FILE")
    return Path(configured) if configured else Path(app.instance_path) / "node_key.pem"


def read_private_key(app: Flask) -> Ed25519PrivateKey | None:
    """The configured private key, or None when neither the variable nor the file is
    there. NodeKeyError when one is there but unusable (format, file mode)."""
    text = app.config.get("HINDSIGHT_NODE_KEY")
    if text:
        if not _HEX.fullmatch(str(text).strip()):
            raise NodeKeyError("HINDSIGHT_NODE_KEY must be 64 hex digits (a raw Ed25519 "
                               "private key)")
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(str(text).strip()))
    path = key_file(app)
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise NodeKeyError(f"{path} has mode {mode:04o}: a node key file must be readable "
                           f"by its owner only (chmod 600 {path})")
    try:
        private = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise NodeKeyError(f"{path} is not an unencrypted PEM private key: "
                           f"{str(exc)[:120]}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise NodeKeyError(f"{path} holds a {type(private).__name__}, not an Ed25519 key")
    return private


def write_private_key(path: Path, private: Ed25519PrivateKey) -> None:
    """A new file of mode 0600; never overwrites one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load(app: Flask, session: Session) -> str:
    """Hold this node's private key for signing if it is configured and is the one the
    database names; return a one-line status for `node show` and the nodes page."""
    public = keys.own_public_key(session)
    try:
        private = read_private_key(app)
    except NodeKeyError as exc:
        status = f"unusable: {exc}"
    else:
        if public is None:
            status = "none: run `flask node init` to give this node a key"
        elif private is None:
            status = (f"missing: the database names key {keys.fingerprint(public)} but "
                      f"neither HINDSIGHT_NODE_KEY nor {key_file(app)} holds it")
        elif keys.public_key_hex(private) != public:
            configured = keys.fingerprint(keys.public_key_hex(private))
            status = (f"wrong key: the configured key is {configured}, the database names "
                      f"{keys.fingerprint(public)}")
        else:
            keys.hold(private)
            status = "loaded"
    app.extensions[STATUS] = status
    return status
