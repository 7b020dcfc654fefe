"""Issued invoices and credit notes, each as issued: its number, what it is for, its amounts per
VAT rate, and a snapshot of the buyer.

Revision ID: 0027
Revises: 0026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("document_id", sa.String(length=260), primary_key=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("vat_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("reverse_charge", sa.Boolean(), nullable=False),
        sa.Column("corrects", sa.String(length=32), nullable=True),
        sa.Column("shipment_id", sa.String(length=220), nullable=True),
        sa.Column("return_id", sa.String(length=220), nullable=True),
        sa.Column("refund_key", sa.String(length=260), nullable=True),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("buyer", _JSON, nullable=False),
        sa.UniqueConstraint("number", name="invoice_number_once"),
    )
    op.create_index("ix_invoices_order_id", "invoices", ["order_id"])
    op.create_index("ix_invoices_issued_at", "invoices", ["issued_at"])


def downgrade() -> None:
    op.drop_index("ix_invoices_issued_at", table_name="invoices")
    op.drop_index("ix_invoices_order_id", table_name="invoices")
    op.drop_table("invoices")
