"""field-by-field merges: which fields a conflict disputes, which each side contributed

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disputed', sa.Text(), nullable=True))
    with op.batch_alter_table('conflict_sides', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('conflict_sides', schema=None) as batch_op:
        batch_op.drop_column('fields')
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_column('disputed')
