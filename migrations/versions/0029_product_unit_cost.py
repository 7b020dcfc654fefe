"""A unit cost per SKU in the catalogue (the stock value report), and an index on the time an
order's last parcel shipped (sold per period and marketplace receivables are read by it).

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHOLE_COST = (
    "(unit_cost_minor IS NULL AND unit_cost_currency IS NULL) OR "
    "(unit_cost_minor IS NOT NULL AND unit_cost_minor >= 0 AND unit_cost_currency IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("unit_cost_currency", sa.String(length=3), nullable=True))
        batch_op.create_check_constraint("product_unit_cost_whole", WHOLE_COST)
    op.create_index("ix_orders_shipped", "orders", ["shipped_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_shipped", table_name="orders")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint("product_unit_cost_whole", type_="check")
        batch_op.drop_column("unit_cost_currency")
        batch_op.drop_column("unit_cost_minor")
