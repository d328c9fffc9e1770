"""API tokens for /api/events: per user, hashed at rest (webapp/tokens/)

Revision ID: 0012
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# A copy of webapp.audit.tables.TABLE_ARGS: a migration stays as it was written.
TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.Column('user_id', sa.String(length=26), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        # SHA-256 of the token; the token itself is shown once and never stored.
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('hint', sa.String(length=12), nullable=False),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('last_used_ms', sa.BigInteger(), nullable=True),
        sa.Column('revoked_ms', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
        **TABLE_ARGS,
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_user', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_api_tokens_user')
    op.drop_table('api_tokens')
