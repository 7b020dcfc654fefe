"""Return labels: one per return, from the customer back to the location that shipped the goods,
asked of the carrier integration once (its own table: the returns lifecycle owns `returns`).

Revision ID: 0022
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_labels",
        sa.Column("return_id", sa.String(length=220), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("rma", sa.String(length=220), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shipment_id", sa.String(length=220), nullable=True),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("tracking_url", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("return_id"),
    )
    op.create_index("ix_return_labels_order_id", "return_labels", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_return_labels_order_id", table_name="return_labels")
    op.drop_table("return_labels")
