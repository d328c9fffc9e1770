"""peers and sync nonces

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# A copy of webapp.audit.tables.TABLE_ARGS: a migration stays as it was written, whatever
# the app's modules become later.
TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade():
    op.create_table(
        'peers',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=True),
        # Stored as given: HMACs need the secret itself. Requests name it by key_id.
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.Column('node_id', sa.String(length=26), nullable=True),
        sa.Column('head_seq', sa.BigInteger(), nullable=True),
        sa.Column('last_attempt_ms', sa.BigInteger(), nullable=True),
        sa.Column('last_success_ms', sa.BigInteger(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_peers')),
        sa.UniqueConstraint('key_id', name=op.f('uq_peers_key_id')),
        **TABLE_ARGS,
    )
    op.create_table(
        'sync_nonces',
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('expires_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key_id', 'nonce', name=op.f('pk_sync_nonces')),
        **TABLE_ARGS,
    )
    # Expired nonces are swept by this index (webapp/sync/nonces.py).
    with op.batch_alter_table('sync_nonces', schema=None) as batch_op:
        batch_op.create_index('ix_sync_nonces_expires', ['expires_ms'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_nonces', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_nonces_expires')
    op.drop_table('sync_nonces')
    op.drop_table('peers')
