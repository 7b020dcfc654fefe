"""A dated ledger of payments' money (captured, refunded, voided), so the books can say on which day
money moved; existing payments get one opening movement per total, dated at their last change.

Revision ID: 0031
Revises: 0030
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("payment_id", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payment_movements_payment_id", "payment_movements", ["payment_id"])
    op.create_index("ix_payment_movements_at", "payment_movements", ["at"])
    # One opening movement per total, dated at the payment's last change.
    op.execute(
        "INSERT INTO payment_movements (payment_id, order_id, kind, amount_minor, currency, at) "
        "SELECT payment_id, order_id, 'captured', captured_minor, currency, updated_at FROM payments "
        "WHERE captured_minor > 0"
    )
    op.execute(
        "INSERT INTO payment_movements (payment_id, order_id, kind, amount_minor, currency, at) "
        "SELECT payment_id, order_id, 'refunded', refunded_minor, currency, updated_at FROM payments "
        "WHERE refunded_minor > 0"
    )
    op.execute(
        "INSERT INTO payment_movements (payment_id, order_id, kind, amount_minor, currency, at) "
        "SELECT payment_id, order_id, 'voided', voided_minor, currency, updated_at FROM payments "
        "WHERE voided_minor > 0"
    )


def downgrade() -> None:
    op.drop_index("ix_payment_movements_at", table_name="payment_movements")
    op.drop_index("ix_payment_movements_payment_id", table_name="payment_movements")
    op.drop_table("payment_movements")
