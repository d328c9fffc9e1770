"""index change events by operation, for the timeline's operation filter

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.create_index('ix_events_op', ['op', 'hlc'], unique=False)


def downgrade():
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_op')
