"""Returned stock: units held out of sale until released (refurbish), write-offs with a reason (the
defects per SKU) and units sent back to the supplier.

Revision ID: 0018
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_check_constraint("stock_held_not_negative", "held >= 0")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_delta", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "stock_write_offs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=True),
        sa.Column("return_id", sa.String(length=220), nullable=True),
        sa.Column("actor", sa.String(length=320), server_default="", nullable=False),
        sa.Column("written_off_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name="write_off_quantity_positive"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stock_write_offs_at", "stock_write_offs", ["written_off_at"])
    op.create_index("ix_stock_write_offs_sku", "stock_write_offs", ["sku", "written_off_at"])
    op.create_table(
        "supplier_returns",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=True),
        sa.Column("return_id", sa.String(length=220), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name="supplier_return_quantity_positive"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supplier_returns_sku", "supplier_returns", ["sku", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_supplier_returns_sku", table_name="supplier_returns")
    op.drop_table("supplier_returns")
    op.drop_index("ix_stock_write_offs_sku", table_name="stock_write_offs")
    op.drop_index("ix_stock_write_offs_at", table_name="stock_write_offs")
    op.drop_table("stock_write_offs")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_column("held_delta")
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_constraint("stock_held_not_negative", type_="check")
        batch_op.drop_column("held")
