"""Tombstones keep the schema version their last state was written at (issue 11)

A node upgraded to a newer schema of an entity upcasts a deleted record's last state
from that version when it reads it; the stored text is never rewritten.

Revision ID: 0014
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schema_version', sa.Integer(), nullable=True))
    # Before this column a tombstone was written at the version of the event that
    # deleted the record, as far as this node knew it: the best record of it there is.
    op.execute("UPDATE tombstones SET schema_version = (SELECT e.schema_version FROM "
               "change_events e WHERE e.event_id = tombstones.event_id)")
    op.execute("UPDATE tombstones SET schema_version = 1 WHERE schema_version IS NULL")
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.alter_column('schema_version', existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_column('schema_version')
