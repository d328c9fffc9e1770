"""security: server-side sign-in sessions; failed logins counted by username alone too;
sync key ids derived from their secret with HMAC (recomputed for the stored peers); the
access log's records (the `access` entity)

Revision ID: 0010
Revises: 0009
"""
import hashlib
import hmac

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
    op.create_table(
        'access_log',
        sa.Column('id', sa.String(26), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('vv', sa.Text(), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('origin_node_id', sa.String(26), nullable=False),
        sa.Column('summary', sa.String(300), nullable=False),
        sa.Column('kind', sa.String(14), nullable=False),
        sa.Column('username', sa.String(200), nullable=True),
        sa.Column('address', sa.String(45), nullable=True),
        sa.Column('session', sa.String(26), nullable=True),
        sa.Column('detail', sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
        **TABLE_ARGS,
    )
    op.create_index('ix_access_log_kind', 'access_log', ['kind', 'address', 'hlc'])
    op.create_index('ix_access_log_recent', 'access_log', ['kind', 'hlc'])
    _rekey(lambda secret: hmac.new(secret.encode(), b"hindsight sync key id v1",
                                   hashlib.sha256).hexdigest()[:16])


def _rekey(key_id):
    """Each stored peer's key id again from its secret (as webapp/sync/signing.key_id);
    the nonces seen under the old ids go (they only ever guard a 10-minute window)."""
    peers = sa.table('peers', sa.column('name'), sa.column('secret'), sa.column('key_id'))
    conn = op.get_bind()
    for name, secret in conn.execute(sa.select(peers.c.name, peers.c.secret)).all():
        conn.execute(peers.update().where(peers.c.name == name).values(key_id=key_id(secret)))
    conn.execute(sa.table('sync_nonces').delete())


def downgrade():
    _rekey(lambda secret: hashlib.sha256(secret.encode()).hexdigest()[:16])
    op.drop_index('ix_access_log_recent', table_name='access_log')
    op.drop_index('ix_access_log_kind', table_name='access_log')
    op.drop_table('access_log')
    op.drop_index('ix_login_failures_username', table_name='login_failures')
    op.drop_index('ix_user_sessions_created', table_name='user_sessions')
    op.drop_index('ix_user_sessions_user', table_name='user_sessions')
    op.drop_table('user_sessions')
