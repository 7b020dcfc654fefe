"""Shipments as their own workflows: step timestamps and confirmations, location task queues,
escalations for late steps, and returns.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_queue", sa.String(length=200), nullable=True))
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="delivery", nullable=False))
        batch_op.add_column(sa.Column("parcels", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("short_lines", _JSON, nullable=True))
        batch_op.add_column(sa.Column("confirmed_by", _JSON, nullable=True))
        batch_op.add_column(sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "escalations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("shipment_id", sa.String(length=220), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shipment_id", "step", name="escalation_once_per_step"),
    )
    op.create_index("ix_escalations_order_id", "escalations", ["order_id"])
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(length=220), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lines", _JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refund_minor", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"]),
        sa.PrimaryKeyConstraint("return_id"),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_returns_order_id", table_name="returns")
    op.drop_table("returns")
    op.drop_index("ix_escalations_order_id", table_name="escalations")
    op.drop_table("escalations")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        for column in ("collected_at", "ready_at", "confirmed_by", "short_lines", "parcels", "kind"):
            batch_op.drop_column(column)
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("task_queue")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("cancel_requested_at")
