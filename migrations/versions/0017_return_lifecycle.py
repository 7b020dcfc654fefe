"""The return lifecycle (issue 15): a return has a state, an RMA, where and how it was received, what
became of each unit and how it was settled; and each order keeps the units its return refunds have
paid for (the refund basis), so returns refunded at different times never refund a unit twice.

Returns taken in one step before this keep state NULL: they were received, restocked and refunded
at once, and their lines are what seeds an order's refund basis the first time a new return needs it.

Revision ID: 0017
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0017"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("rma", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=20), server_default="support", nullable=False))
        batch_op.add_column(sa.Column("external_rma", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("refund_timing", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("location_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("received", _JSON, nullable=True))
        batch_op.add_column(sa.Column("short", _JSON, nullable=True))
        batch_op.add_column(sa.Column("dispositions", _JSON, nullable=True))
        batch_op.add_column(sa.Column("over_refunded_minor", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_returns_state", ["state", "created_at"])
        batch_op.create_index("ux_returns_rma", ["rma"], unique=True)
    op.create_table(
        "return_refund_bases",
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("units", _JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"]),
        sa.PrimaryKeyConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("return_refund_bases")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ux_returns_rma")
        batch_op.drop_index("ix_returns_state")
        for column in (
            "updated_at",
            "expires_at",
            "over_refunded_minor",
            "dispositions",
            "short",
            "received",
            "location_id",
            "resolution",
            "refund_timing",
            "external_rma",
            "source",
            "sequence",
            "rma",
            "state",
        ):
            batch_op.drop_column(column)
