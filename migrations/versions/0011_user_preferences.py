"""user preferences: each user's display time zone (node-local, not audited)

Revision ID: 0011
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0009'
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


def downgrade():
    op.drop_table('user_preferences')
