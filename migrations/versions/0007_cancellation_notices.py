"""Cancellation notices: an order a channel sold that ended cancelled here, to be cancelled there too.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cancellation_notices",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("notice", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )
    op.create_index("ix_cancellation_notices_pending", "cancellation_notices", ["delivered_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cancellation_notices_pending", table_name="cancellation_notices")
    op.drop_table("cancellation_notices")
