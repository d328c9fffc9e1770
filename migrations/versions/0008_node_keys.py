"""node keys: signed events, pinned public keys, chain heads of remote origins

Adds change_events.signature, node_state.public_key, nodes.public_key and key_via,
peers.key_fingerprint, and the chain_heads / chain_waiting tables. chain_heads is
filled from the events already stored (each remote origin's newest event, by HLC, or a
newer one parked waiting for a record), so apply checks the next event's link at once.
No key is made here: a private key never goes in the database. Run `flask node init`
afterwards; it gives an existing node its key and says what it did.

Revision ID: 0008
Revises: 0007
"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade():
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature', sa.String(128), nullable=True))
    with op.batch_alter_table('node_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.String(64), nullable=True))
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.String(64), nullable=True))
        batch_op.add_column(sa.Column('key_via', sa.String(26), nullable=True))
    with op.batch_alter_table('peers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_fingerprint', sa.String(64), nullable=True))
    heads = op.create_table(
        'chain_heads',
        sa.Column('origin_node_id', sa.String(26), nullable=False),
        sa.Column('last_hash', sa.String(64), nullable=False),
        sa.Column('last_hlc', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('origin_node_id', name=op.f('pk_chain_heads')),
        **TABLE_ARGS,
    )
    op.create_table(
        'chain_waiting',
        sa.Column('event_id', sa.String(26), nullable=False),
        sa.Column('origin_node_id', sa.String(26), nullable=False),
        sa.Column('prev_hash', sa.String(64), nullable=False),
        sa.Column('source_node_id', sa.String(26), nullable=False),
        sa.Column('body', LongText, nullable=False),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_chain_waiting')),
        **TABLE_ARGS,
    )
    with op.batch_alter_table('chain_waiting', schema=None) as batch_op:
        batch_op.create_index('ix_chain_waiting_origin', ['origin_node_id', 'prev_hash'],
                              unique=False)
    op.bulk_insert(heads, _remote_heads(op.get_bind()))


def _remote_heads(conn):
    """Each remote origin's newest accepted event: stored, or parked for a record."""
    own = conn.execute(sa.text("SELECT node_id FROM node_state")).scalar()
    best = {}
    rows = conn.execute(sa.text(
        "SELECT origin_node_id, hlc, hash FROM change_events ORDER BY origin_node_id, hlc"))
    for origin, hlc, digest in rows:
        best[origin] = (int(hlc), digest)
    for (body,) in conn.execute(sa.text("SELECT body FROM parked_events")):
        doc = json.loads(body)
        origin, hlc = doc["origin_node_id"], int(doc["hlc"])
        if origin not in best or best[origin][0] < hlc:
            best[origin] = (hlc, doc["hash"])
    return [{"origin_node_id": origin, "last_hash": digest, "last_hlc": hlc}
            for origin, (hlc, digest) in sorted(best.items()) if origin != own]


def downgrade():
    with op.batch_alter_table('chain_waiting', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_waiting_origin')
    op.drop_table('chain_waiting')
    op.drop_table('chain_heads')
    with op.batch_alter_table('peers', schema=None) as batch_op:
        batch_op.drop_column('key_fingerprint')
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('key_via')
        batch_op.drop_column('public_key')
    with op.batch_alter_table('node_state', schema=None) as batch_op:
        batch_op.drop_column('public_key')
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_column('signature')
