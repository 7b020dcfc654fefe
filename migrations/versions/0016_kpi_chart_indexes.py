"""Indexes for the KPI charts: which orders ever waited for stock (order events by kind), late
steps raised in a window, returns accepted in a window.

Revision ID: 0016
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_order_events_kind_order", "order_events", ["kind", "order_id"])
    op.create_index("ix_escalations_raised", "escalations", ["raised_at"])
    op.create_index("ix_returns_created", "returns", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_returns_created", table_name="returns")
    op.drop_index("ix_escalations_raised", table_name="escalations")
    op.drop_index("ix_order_events_kind_order", table_name="order_events")
