"""Channels: pull cursors, the audit of every channel payload, shipment notices back to the
selling channel, the product catalogue (EAN, channel listings) and who fulfils an order.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fulfilled_by", sa.String(length=10), server_default="us", nullable=False))
    op.create_table(
        "channel_cursors",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("orders_seen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "channel_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("order_id", sa.String(length=140), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_channel_messages_order", "channel_messages", ["order_id"])
    op.create_index("ix_channel_messages_channel", "channel_messages", ["channel", "id"])
    op.create_table(
        "shipment_notices",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.String(length=220), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("notice", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shipment_id"),
    )
    op.create_index("ix_shipment_notices_pending", "shipment_notices", ["delivered_at", "id"])
    op.create_table(
        "products",
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("ean", sa.String(length=20), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
        sa.UniqueConstraint("ean"),
    )
    op.create_table(
        "channel_listings",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("listing_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("channel", "sku"),
        sa.UniqueConstraint("channel", "listing_id", name="channel_listing_once"),
    )


def downgrade() -> None:
    op.drop_table("channel_listings")
    op.drop_table("products")
    op.drop_index("ix_shipment_notices_pending", table_name="shipment_notices")
    op.drop_table("shipment_notices")
    op.drop_index("ix_channel_messages_channel", table_name="channel_messages")
    op.drop_index("ix_channel_messages_order", table_name="channel_messages")
    op.drop_table("channel_messages")
    op.drop_table("channel_cursors")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("fulfilled_by")
