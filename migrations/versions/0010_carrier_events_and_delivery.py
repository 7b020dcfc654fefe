"""Carrier events and delivery: every report a carrier made about a parcel (once each), when a
shipment and an order were delivered, and shipments found by tracking number.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "carrier_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=300), nullable=False),
        sa.Column("shipment_id", sa.String(length=220), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("carrier", "event_id", name="carrier_event_once"),
    )
    op.create_index("ix_carrier_events_shipment_id", "carrier_events", ["shipment_id"])
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("carrier_reported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_shipments_tracking_number", ["tracking_number"])
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_tracking_number")
        batch_op.drop_column("carrier_reported_at")
        batch_op.drop_column("delivered_at")
    op.drop_index("ix_carrier_events_shipment_id", table_name="carrier_events")
    op.drop_table("carrier_events")
