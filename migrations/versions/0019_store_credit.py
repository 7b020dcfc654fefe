"""Store credit: an account per shop and customer, and its append-only ledger; goodwill given on orders.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "store_credit_accounts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("shop", sa.String(length=64), nullable=False),
        sa.Column("customer_key", sa.String(length=320), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop", "customer_key", name="store_credit_account_once"),
    )
    op.create_table(
        "store_credit_entries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("entry_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("refers_to", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["store_credit_accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "entry_id", name="store_credit_entry_once"),
    )
    op.create_index("ix_store_credit_entries_order", "store_credit_entries", ["order_id"])
    op.create_index("ix_store_credit_entries_expiry", "store_credit_entries", ["expires_at"])
    op.create_table(
        "goodwill",
        sa.Column("goodwill_id", sa.String(length=260), nullable=False),
        sa.Column("order_id", sa.String(length=140), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("given_by", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"]),
        sa.PrimaryKeyConstraint("goodwill_id"),
    )
    op.create_index("ix_goodwill_order_id", "goodwill", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_goodwill_order_id", table_name="goodwill")
    op.drop_table("goodwill")
    op.drop_index("ix_store_credit_entries_expiry", table_name="store_credit_entries")
    op.drop_index("ix_store_credit_entries_order", table_name="store_credit_entries")
    op.drop_table("store_credit_entries")
    op.drop_table("store_credit_accounts")
