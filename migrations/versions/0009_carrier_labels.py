"""Carrier labels: a sender address on each location, the weights and label state on each
shipment, and the label documents themselves (in the database: production's file system is
read-only).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ADDRESS = ("address_line1", "address_line2", "city", "phone")


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        for column in _ADDRESS:
            batch_op.add_column(sa.Column(column, sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("email", sa.String(length=320), server_default="", nullable=False))
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parcel_weights_grams", _JSON, nullable=True))
        batch_op.add_column(sa.Column("label_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("label_problem", sa.Text(), nullable=True))
    op.create_table(
        "shipment_labels",
        sa.Column("shipment_id", sa.String(length=220), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("tracking_url", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.shipment_id"]),
        sa.PrimaryKeyConstraint("shipment_id", "purpose"),
    )


def downgrade() -> None:
    op.drop_table("shipment_labels")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        for column in ("label_problem", "label_status", "parcel_weights_grams"):
            batch_op.drop_column(column)
    with op.batch_alter_table("locations", schema=None) as batch_op:
        for column in ("email", *reversed(_ADDRESS)):
            batch_op.drop_column(column)
