"""timeline filter indexes end in the whole timeline order (hlc, origin_node_id, event_id)

With only (filter, hlc), SQLite answers a filtered timeline page by walking
ix_events_timeline and reading every row until enough match: a rare filter value
(op=deleted, a quiet user) read most of a million-event log. Ending each filter index in
the full order key makes a filtered page one range scan with no sort step on every
database.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WIDE = {
    "ix_events_record": ["entity", "record_id", "hlc", "origin_node_id", "event_id"],
    "ix_events_entity": ["entity", "hlc", "origin_node_id", "event_id"],
    "ix_events_user": ["user_id", "hlc", "origin_node_id", "event_id"],
    "ix_events_origin": ["origin_node_id", "hlc", "event_id"],
    "ix_events_op": ["op", "hlc", "origin_node_id", "event_id"],
}
NARROW = {
    "ix_events_record": ["entity", "record_id", "hlc"],
    "ix_events_entity": ["entity", "hlc"],
    "ix_events_user": ["user_id", "hlc"],
    "ix_events_origin": ["origin_node_id", "hlc"],
    "ix_events_op": ["op", "hlc"],
}


def _replace(indexes):
    for name, columns in indexes.items():
        op.drop_index(name, table_name="change_events")
        op.create_index(name, "change_events", columns, unique=False)


def upgrade():
    _replace(WIDE)


def downgrade():
    _replace(NARROW)
