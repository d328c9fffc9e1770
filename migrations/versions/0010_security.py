"""security: server-side sign-in sessions; failed logins counted by username alone too

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade():
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.String(26), nullable=False),
        sa.Column('user_id', sa.String(26), nullable=False),
        sa.Column('stamp', sa.String(64), nullable=False),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('seen_ms', sa.BigInteger(), nullable=False),
        sa.Column('address', sa.String(45), nullable=False),
        sa.Column('agent', sa.String(200), nullable=False),
        sa.Column('ended_ms', sa.BigInteger(), nullable=True),
        sa.Column('end_reason', sa.String(60), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        **TABLE_ARGS,
    )
    op.create_index('ix_user_sessions_user', 'user_sessions', ['user_id', 'ended_ms'])
    op.create_index('ix_user_sessions_created', 'user_sessions', ['created_ms'])
    op.create_index('ix_login_failures_username', 'login_failures', ['username', 'at_ms'])


def downgrade():
    op.drop_index('ix_login_failures_username', table_name='login_failures')
    op.drop_index('ix_user_sessions_created', table_name='user_sessions')
    op.drop_index('ix_user_sessions_user', table_name='user_sessions')
    op.drop_table('user_sessions')
