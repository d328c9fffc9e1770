"""The api_tokens table (migration 0012). Node-local, like peers: a token is a secret of
this node, never replicated. Only its SHA-256 is stored; the token is shown once."""

from __future__ import annotations

import sqlalchemy as sa

from ..audit.tables import TABLE_ARGS, metadata

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),  # a ULID: what lists and revoke name
    sa.Column("user_id", sa.String(26), nullable=False),  # the `user` record it acts as
    sa.Column("name", sa.String(100), nullable=False),  # what the admin called it
    # SHA-256 of the whole token: tokens are 256 random bits, so a fast hash is enough
    # (nothing to guess), and the lookup is one probe of this unique index.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(12), nullable=False),  # its first characters, for lists
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),  # admin user id, or "cli"
    sa.Column("last_used_ms", sa.BigInteger),
    sa.Column("revoked_ms", sa.BigInteger),
    sa.Index("ix_api_tokens_user", "user_id"),
    **TABLE_ARGS,
)
