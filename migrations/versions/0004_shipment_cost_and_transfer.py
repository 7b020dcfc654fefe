"""Shipments record their expected fulfilment cost and, for click & collect, the store they go to.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fulfilment_cost_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("transfer_to", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_column("transfer_to")
        batch_op.drop_column("fulfilment_cost_minor")
