"""Several payments per order: each payment says what it pays for (the order, or an exchange's
difference charged on the same card, with its return), and a return records the difference its
exchange asked of the customer and how that went.

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=20), server_default="order", nullable=False))
        batch_op.add_column(sa.Column("return_id", sa.String(length=220), nullable=True))
    with op.batch_alter_table("returns") as batch_op:
        batch_op.add_column(sa.Column("difference_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("difference_status", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("returns") as batch_op:
        batch_op.drop_column("difference_status")
        batch_op.drop_column("difference_minor")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("return_id")
        batch_op.drop_column("purpose")
