"""Payment links: money asked of the customer after checkout (an exchange's dearer replacement on a
Mollie order), open until paid, past its deadline or called off.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_links",
        sa.Column("link_id", sa.String(length=64), primary_key=True),
        sa.Column("order_id", sa.String(length=140), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("owner", sa.String(length=220), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payment_links_order_id", "payment_links", ["order_id"])
    op.create_index("ix_payment_links_owner", "payment_links", ["owner"])
    op.create_index("ix_payment_links_status", "payment_links", ["status"])


def downgrade() -> None:
    op.drop_index("ix_payment_links_status", table_name="payment_links")
    op.drop_index("ix_payment_links_owner", table_name="payment_links")
    op.drop_index("ix_payment_links_order_id", table_name="payment_links")
    op.drop_table("payment_links")
