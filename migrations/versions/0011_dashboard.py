"""dashboard: each user's display time zone (node-local, not audited), and the activity
roll-up (events per hour by entity, user and node; how far into the log it has counted)

Revision ID: 0011
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade():
    op.create_table(
        'user_preferences',
        sa.Column('user_id', sa.String(26), nullable=False),
        sa.Column('time_zone', sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_preferences')),
        **TABLE_ARGS,
    )
    op.create_table(
        'activity_counts',
        sa.Column('dim', sa.String(8), nullable=False),
        sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('key', sa.String(100), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('dim', 'hour', 'key', name=op.f('pk_activity_counts')),
        **TABLE_ARGS,
    )
    op.create_table(
        'activity_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('counted_seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_state')),
        **TABLE_ARGS,
    )


def downgrade():
    op.drop_table('activity_state')
    op.drop_table('activity_counts')
    op.drop_table('user_preferences')
