"""failed logins, counted per username and address (webapp/auth/throttle.py)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# A copy of webapp.audit.tables.TABLE_ARGS: a migration stays as it was written.
TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade():
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('at_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
        **TABLE_ARGS,
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_address', ['address', 'username', 'at_ms'],
                              unique=False)
        batch_op.create_index('ix_login_failures_at', ['at_ms'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_at')
        batch_op.drop_index('ix_login_failures_address')
    op.drop_table('login_failures')
