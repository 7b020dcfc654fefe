"""Reads at 100,000 orders: the order list's filter indexes end with its order and key
(received_at, order_id), so a page is found in the index however deep (the status index holds the
channel as well, for the two filters together); the received_at index
covers what the KPI report groups a window's orders by (status, channel, currency, shipped_at), so
the window is read from the index alone. Each replaces the index of the same name (no index more
for an order's writes to keep).

Revision ID: 0035
Revises: 0034
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEWEST_FIRST = sa.text("received_at DESC")
NEW: dict[str, list[str | sa.TextClause]] = {
    "ix_orders_status_received": ["status", NEWEST_FIRST, "order_id", "channel"],
    "ix_orders_channel_received": ["channel", NEWEST_FIRST, "order_id"],
    "ix_orders_received": [NEWEST_FIRST, "order_id", "status", "channel", "currency", "shipped_at"],
}
OLD: dict[str, list[str | sa.TextClause]] = {
    "ix_orders_status_received": ["status", "received_at"],
    "ix_orders_channel_received": ["channel", "received_at"],
    "ix_orders_received": ["received_at"],
}


def _replace(indexes: dict[str, list[str | sa.TextClause]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="orders")
        op.create_index(name, "orders", columns)


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    _replace(OLD)
