"""Columns take what channels send: line titles as text, step keys up to 400 characters, a
parcel's expected cost as a 64-bit amount.

A WooCommerce, bol.com or Amazon product name can pass 300 characters; a shipment step's key
(shipment id + step) could pass 200; a cost from a per-km profile over a long distance could pass
a 32-bit integer. Each made an activity fail on every retry on PostgreSQL. Widening only: on
PostgreSQL varchar(200) → varchar(400) and varchar → text rewrite nothing.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column("title", existing_type=sa.String(length=300), type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("activity_results", schema=None) as batch_op:
        batch_op.alter_column(
            "key", existing_type=sa.String(length=200), type_=sa.String(length=400), existing_nullable=False
        )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.alter_column(
            "fulfilment_cost_minor", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=True
        )


def downgrade() -> None:
    # Values that only fit the wider columns would be cut or refused: downgrading loses them.
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.alter_column(
            "fulfilment_cost_minor", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=True
        )
    with op.batch_alter_table("activity_results", schema=None) as batch_op:
        batch_op.alter_column(
            "key", existing_type=sa.String(length=400), type_=sa.String(length=200), existing_nullable=False
        )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column("title", existing_type=sa.Text(), type_=sa.String(length=300), existing_nullable=False)
