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

TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade():
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schema_version', sa.Integer(), nullable=True))
    # Before this column a tombstone was written at the version of the event that
    # deleted the record, as far as this node knew it: the best record of it there is.
    op.execute("UPDATE tombstones SET schema_version = (SELECT e.schema_version FROM "
               "change_events e WHERE e.event_id = tombstones.event_id)")
    # Its deleting event is not here (it came in a batch this node no longer holds, or
    # never did): the record's latest event here was written at the version nearest
    # to it (a version only rises); 1 when the node holds none of its events.
    op.execute("UPDATE tombstones SET schema_version = (SELECT MAX(e.schema_version) FROM "
               "change_events e WHERE e.entity = tombstones.entity AND "
               "e.record_id = tombstones.record_id) WHERE schema_version IS NULL")
    op.execute("UPDATE tombstones SET schema_version = 1 WHERE schema_version IS NULL")
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.alter_column('schema_version', existing_type=sa.Integer(), nullable=False)
    # The schema version each entity's conflicts and unique renames were computed at
    # (no row: 1); a node upgraded to a newer one settles them again at it.
    op.create_table(
        'derived_schema_versions',
        sa.Column('entity', sa.String(length=40), nullable=False),
        sa.Column('schema_version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('entity', name=op.f('pk_derived_schema_versions')),
        **TABLE_ARGS,
    )


def downgrade():
    op.drop_table('derived_schema_versions')
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_column('schema_version')
