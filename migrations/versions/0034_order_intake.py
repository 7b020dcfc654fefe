"""Durable order intake: an order a channel sent is kept here in the request's transaction and its
workflow started from here (right after the answer, or by the sweeper while Temporal was away).

Revision ID: 0034
Revises: 0032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_intake",
        sa.Column("order_id", sa.String(length=140), primary_key=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("workflow_input", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_order_intake_due", "order_intake", ["started_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_order_intake_due", table_name="order_intake")
    op.drop_table("order_intake")
