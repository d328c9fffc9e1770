"""step 3: price renamed unit_price (autogenerate sees a drop and an add: made a rename by
hand, so the values stay; the declaration bumps its schema version with renamed())

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:38:11.501054

"""
from alembic import op

from webapp.audit.fields import columns

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evolving_parts', schema=None) as batch_op:
        batch_op.alter_column('price', new_column_name='unit_price',
                              existing_type=columns.ExactDecimal(10, 2), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('evolving_parts', schema=None) as batch_op:
        batch_op.alter_column('unit_price', new_column_name='price',
                              existing_type=columns.ExactDecimal(10, 2), existing_nullable=False)
