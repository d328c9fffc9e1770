"""replication: cursors, heads, unique renames, conflicts, parked events; idempotency
keys unique per origin node

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The tables of webapp/audit/replication/tables.py as they were when this revision was
# written. A migration is frozen history, so it spells out TABLE_ARGS and LongText
# (webapp/audit/tables.py) rather than importing what may change later.
ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mariadb").with_variant(mysql.LONGTEXT(), "mysql")


def upgrade():
    op.create_table(
        "replication_cursors",
        sa.Column("source_node_id", sa.String(26), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_hlc", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source_node_id", name=op.f("pk_replication_cursors")),
        **ARGS,
    )
    op.create_table(
        "replication_heads",
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(26), nullable=False),
        sa.Column("event_id", sa.String(26), nullable=False),
        sa.Column("vv", sa.Text(), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("origin_node_id", sa.String(26), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "record_id", "event_id",
                                name=op.f("pk_replication_heads")),
        **ARGS,
    )
    op.create_table(
        "unique_renames",
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(26), nullable=False),
        sa.Column("value_hash", sa.String(64), nullable=False),
        sa.Column("value", LONG_TEXT, nullable=False),
        sa.PrimaryKeyConstraint("entity", "field", "record_id", name=op.f("pk_unique_renames")),
        **ARGS,
    )
    op.create_index("ix_unique_renames_value", "unique_renames",
                    ["entity", "field", "value_hash"], unique=False)
    op.create_table(
        "conflicts",
        sa.Column("conflict_id", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("field", sa.String(64), nullable=True),
        sa.Column("value_hash", sa.String(64), nullable=True),
        sa.Column("winner_event_id", sa.String(26), nullable=False),
        sa.Column("opened_hlc", sa.BigInteger(), nullable=False),
        sa.Column("resolved_event_id", sa.String(26), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_hlc", sa.BigInteger(), nullable=True),
        sa.Column("superseded_by", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("conflict_id", name=op.f("pk_conflicts")),
        **ARGS,
    )
    op.create_index("ix_conflicts_status", "conflicts", ["status", "entity", "opened_hlc"])
    op.create_index("ix_conflicts_record", "conflicts", ["entity", "record_id"])
    op.create_index("ix_conflicts_value", "conflicts", ["entity", "field", "value_hash"])
    op.create_table(
        "conflict_sides",
        sa.Column("conflict_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(26), nullable=False),
        sa.Column("record_id", sa.String(26), nullable=False),
        sa.Column("origin_node_id", sa.String(26), nullable=False),
        sa.PrimaryKeyConstraint("conflict_id", "event_id", name=op.f("pk_conflict_sides")),
        **ARGS,
    )
    op.create_index("ix_conflict_sides_event", "conflict_sides", ["event_id"])
    op.create_index("ix_conflict_sides_origin", "conflict_sides", ["origin_node_id"])
    op.create_table(
        "parked_events",
        sa.Column("event_id", sa.String(26), nullable=False),
        sa.Column("source_node_id", sa.String(26), nullable=False),
        sa.Column("waiting_entity", sa.String(40), nullable=False),
        sa.Column("waiting_record_id", sa.String(26), nullable=False),
        sa.Column("body", LONG_TEXT, nullable=False),
        sa.Column("parked_hlc", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_parked_events")),
        **ARGS,
    )
    op.create_index("ix_parked_waiting", "parked_events",
                    ["waiting_entity", "waiting_record_id"])
    # Two nodes may run "the same" command concurrently (same record, version and
    # params: the same automatic key); a replica stores both, so a key is unique per origin.
    with op.batch_alter_table("change_events") as batch_op:
        batch_op.drop_constraint("uq_change_events_idempotency_key", type_="unique")
        batch_op.create_unique_constraint("uq_change_events_idempotency_key",
                                          ["idempotency_key", "origin_node_id"])


def downgrade():
    with op.batch_alter_table("change_events") as batch_op:
        batch_op.drop_constraint("uq_change_events_idempotency_key", type_="unique")
        batch_op.create_unique_constraint("uq_change_events_idempotency_key",
                                          ["idempotency_key"])
    op.drop_index("ix_parked_waiting", table_name="parked_events")
    op.drop_table("parked_events")
    op.drop_index("ix_conflict_sides_origin", table_name="conflict_sides")
    op.drop_index("ix_conflict_sides_event", table_name="conflict_sides")
    op.drop_table("conflict_sides")
    op.drop_index("ix_conflicts_value", table_name="conflicts")
    op.drop_index("ix_conflicts_record", table_name="conflicts")
    op.drop_index("ix_conflicts_status", table_name="conflicts")
    op.drop_table("conflicts")
    op.drop_index("ix_unique_renames_value", table_name="unique_renames")
    op.drop_table("unique_renames")
    op.drop_table("replication_heads")
    op.drop_table("replication_cursors")
