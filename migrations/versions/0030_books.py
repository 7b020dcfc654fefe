"""The books: what was booked in an accounting system per day, currency and key (a re-run books
nothing twice), the accounting system's OAuth2 tokens (Exact Online rotates its refresh token), and
the finance role (staff users and tokens may hold it).

Revision ID: 0030
Revises: 0029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ROLES_BEFORE = "role IN ('admin', 'support', 'warehouse')"
_ROLES = "role IN ('admin', 'support', 'warehouse', 'finance')"
_ROLE_CHECKS = (("staff_users", "staff_user_role"), ("staff_tokens", "staff_token_role"))


def _roles(allowed: str) -> None:
    for table, name in _ROLE_CHECKS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, allowed)


def upgrade() -> None:
    _roles(_ROLES)
    op.create_table(
        "bookings",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("system", "day", "currency", "key", name="booking_once"),
    )
    op.create_table(
        "accounting_tokens",
        sa.Column("system", sa.String(length=20), primary_key=True),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("staff_users", "staff_tokens"):
        held = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table} WHERE role = 'finance'")).scalar()  # noqa: S608
        if held:
            raise RuntimeError(f"{held} {table} hold the finance role: give them another role before downgrading")
    _roles(_ROLES_BEFORE)
    op.drop_table("accounting_tokens")
    op.drop_table("bookings")
