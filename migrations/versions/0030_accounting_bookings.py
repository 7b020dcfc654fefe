"""What the books hold of our documents: per accounting system, each invoice or credit note number
booked once, with the id the system gave it and when.

Revision ID: 0030
Revises: 0027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounting_bookings",
        sa.Column("system", sa.String(length=20), primary_key=True),
        sa.Column("document_number", sa.String(length=32), primary_key=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("accounting_bookings")
