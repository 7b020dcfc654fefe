"""Exchanges: a return settled by a replacement records the replacement lines (priced) and the new
shipment of the order that carries them.

Revision ID: 0023
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("returns") as batch_op:
        batch_op.add_column(sa.Column("replacement", _JSON, nullable=True))
        batch_op.add_column(sa.Column("replacement_shipment_id", sa.String(length=220), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("returns") as batch_op:
        batch_op.drop_column("replacement_shipment_id")
        batch_op.drop_column("replacement")
