"""Per-user display preferences: node-local settings, not audited records (a time zone
says how to show events, it changes no business data), so they do not replicate."""

from __future__ import annotations

import sqlalchemy as sa

from ..audit.tables import TABLE_ARGS, metadata

user_preferences = sa.Table(
    "user_preferences",
    metadata,
    sa.Column("user_id", sa.String(26), primary_key=True),
    sa.Column("time_zone", sa.String(64), nullable=False),  # an IANA name, e.g. Europe/Paris
    **TABLE_ARGS,
)
