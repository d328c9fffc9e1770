"""verification runs: when `flask audit verify` last ran and what it found

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade():
    op.create_table(
        'verification_runs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('started_ms', sa.BigInteger(), nullable=False),
        sa.Column('finished_ms', sa.BigInteger(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('events', sa.BigInteger(), nullable=False),
        sa.Column('breaks', sa.Integer(), nullable=False),
        sa.Column('summary', sa.String(500), nullable=False),
        sa.Column('detail', LongText, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_runs')),
        **TABLE_ARGS,
    )


def downgrade():
    op.drop_table('verification_runs')
