"""The sync tables: this node's peers and the request nonces it has seen.
They live on the core metadata so Alembic sees one schema (migration 0003)."""

from __future__ import annotations

import sqlalchemy as sa

from ..audit.tables import TABLE_ARGS, metadata

peers = sa.Table(
    "peers",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    # None for a peer that only pulls from us (we never pull from it).
    sa.Column("url", sa.String(500)),
    # The shared secret has to be readable to compute HMACs, so it is stored as given;
    # the key id (sha256 prefix) is what requests carry to name it.
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False, unique=True),
    # Pinned on the first successful hello; a peer answering as another node is refused.
    sa.Column("node_id", sa.String(26)),
    # A key fingerprint (or whole public key) pinned by hand (`peers add --key`): any
    # other key the peer announces is refused.
    sa.Column("key_fingerprint", sa.String(64)),
    sa.Column("head_seq", sa.BigInteger),  # the peer's last seq, as of our last contact
    sa.Column("last_attempt_ms", sa.BigInteger),
    sa.Column("last_success_ms", sa.BigInteger),
    sa.Column("last_error", sa.Text),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    **TABLE_ARGS,
)

sync_nonces = sa.Table(
    "sync_nonces",
    metadata,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Index("ix_sync_nonces_expires", "expires_ms"),
    **TABLE_ARGS,
)
