"""Stock across locations: routing attributes of locations, channel configs, the ATP outbox,
per-channel feed state, the sandbox stock feed and backorder waits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:54:12.055069
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backorder_waits",
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "sku"),
    )
    with op.batch_alter_table("backorder_waits", schema=None) as batch_op:
        batch_op.create_index("ix_backorder_waits_sku", ["sku"], unique=False)

    op.create_table(
        "channel_configs",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column(
            "config", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "channel_stock_levels",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "sku"),
    )
    op.create_table(
        "sandbox_stock_feed",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sandbox_stock_feed", schema=None) as batch_op:
        batch_op.create_index("ix_sandbox_stock_feed_channel_sku", ["channel", "sku", "id"], unique=False)

    op.create_table(
        "stock_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("atp", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_stock_outbox_pending", ["delivered_at", "id"], unique=False)
        batch_op.create_index("ix_stock_outbox_sku", ["sku", "id"], unique=False)

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("ship_from_store", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("daily_order_capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cost_base_minor", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("cost_per_km_minor", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("cost_per_km_minor")
        batch_op.drop_column("cost_base_minor")
        batch_op.drop_column("daily_order_capacity")
        batch_op.drop_column("ship_from_store")
        batch_op.drop_column("group")

    with op.batch_alter_table("stock_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_outbox_sku")
        batch_op.drop_index("ix_stock_outbox_pending")

    op.drop_table("stock_outbox")
    with op.batch_alter_table("sandbox_stock_feed", schema=None) as batch_op:
        batch_op.drop_index("ix_sandbox_stock_feed_channel_sku")

    op.drop_table("sandbox_stock_feed")
    op.drop_table("channel_stock_levels")
    op.drop_table("channel_configs")
    with op.batch_alter_table("backorder_waits", schema=None) as batch_op:
        batch_op.drop_index("ix_backorder_waits_sku")

    op.drop_table("backorder_waits")
