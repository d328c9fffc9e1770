"""Compaction (issue 11): peers' acknowledgements, compacted chain starts and records,
compaction runs (webapp/audit/compaction/, webapp/sync/acks.py)

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# Copies of webapp.audit.tables' TABLE_ARGS and LongText: a migration stays as written.
TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade():
    op.create_table(
        'peer_acks',
        sa.Column('peer', sa.String(length=100), nullable=False),
        sa.Column('acked_seq', sa.BigInteger(), nullable=False),
        sa.Column('acked_head', sa.BigInteger(), nullable=True),
        sa.Column('settled_seq', sa.BigInteger(), nullable=True),
        sa.Column('acked_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('peer', name=op.f('pk_peer_acks')),
        **TABLE_ARGS,
    )
    op.create_table(
        'compaction_origins',
        sa.Column('origin_node_id', sa.String(length=26), nullable=False),
        sa.Column('start_hash', sa.String(length=64), nullable=False),
        sa.Column('start_hlc', sa.BigInteger(), nullable=False),
        sa.Column('start_event_id', sa.String(length=26), nullable=False),
        sa.Column('start_signature', sa.String(length=128), nullable=True),
        sa.Column('removed', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('origin_node_id', name=op.f('pk_compaction_origins')),
        **TABLE_ARGS,
    )
    op.create_table(
        'compacted_records',
        sa.Column('seq', sa.BigInteger(), nullable=True),
        sa.Column('event_id', sa.String(length=26), nullable=False),
        sa.Column('origin_node_id', sa.String(length=26), nullable=False),
        sa.Column('hlc', sa.BigInteger(), nullable=False),
        sa.Column('entity', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.String(length=26), nullable=False),
        sa.Column('op', sa.String(length=10), nullable=False),
        sa.Column('params', LongText, nullable=False),
        sa.Column('pre_state', LongText, nullable=True),
        sa.Column('post_state', LongText, nullable=True),
        sa.Column('vv_before', sa.Text(), nullable=False),
        sa.Column('vv_after', sa.Text(), nullable=False),
        sa.Column('schema_version', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=100), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('client_ip', sa.String(length=45), nullable=True),
        sa.Column('session_id', sa.String(length=64), nullable=True),
        sa.Column('tenant_id', sa.String(length=64), nullable=True),
        sa.Column('trace_id', sa.String(length=32), nullable=True),
        sa.Column('span_id', sa.String(length=16), nullable=True),
        sa.Column('meta', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint('entity', 'record_id', name=op.f('pk_compacted_records')),
        **TABLE_ARGS,
    )
    # Merges and verify look a base up by its event id.
    op.create_index('ix_compacted_records_event', 'compacted_records', ['event_id'])
    op.create_table(
        'compaction_runs',
        sa.Column('run_id', sa.String(length=26), nullable=False),
        sa.Column('snapshot_id', sa.String(length=26), nullable=False),
        sa.Column('snapshot_seq', sa.BigInteger(), nullable=False),
        sa.Column('through_seq', sa.BigInteger(), nullable=False),
        sa.Column('events_removed', sa.BigInteger(), nullable=False),
        sa.Column('done_ms', sa.BigInteger(), nullable=False),
        sa.Column('source_node_id', sa.String(length=26), nullable=True),
        sa.Column('source_epoch', sa.String(length=26), nullable=True),
        sa.PrimaryKeyConstraint('run_id', name=op.f('pk_compaction_runs')),
        **TABLE_ARGS,
    )


    op.create_table(
        'log_marks',
        sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('arrived_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_log_marks')),
        **TABLE_ARGS,
    )


def downgrade():
    # After a compaction or a bootstrap, the bases are the only copy of the records'
    # history before them: dropping them would leave records no event explains.
    conn = op.get_bind()
    for table in ('compaction_runs', 'compacted_records'):
        if conn.execute(sa.text(f'SELECT 1 FROM {table}')).first() is not None:
            raise RuntimeError(
                f'{table} is not empty: this node compacted its log or started from a '
                'snapshot, and its record bases would be lost; refusing to downgrade '
                'below 0015 (restore a backup from before it instead)')
    op.drop_index('ix_compacted_records_event', table_name='compacted_records')
    for table in ('log_marks', 'compaction_runs', 'compacted_records', 'compaction_origins', 'peer_acks'):
        op.drop_table(table)
