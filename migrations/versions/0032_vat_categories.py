"""A VAT category per SKU in the catalogue (its invoices' rate), and an order's business buyer: its
company name and VAT id (reverse charge).

Revision ID: 0032
Revises: 0031
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("vat_category", sa.String(length=20), nullable=False, server_default="standard"))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("buyer_company", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("buyer_vat_id", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("buyer_vat_id")
        batch.drop_column("buyer_company")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("vat_category")
