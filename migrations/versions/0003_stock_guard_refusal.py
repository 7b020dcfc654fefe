"""PostgreSQL: a function that refuses a guarded stock statement by raising, so the guarded UPDATE
and the COMMIT can travel in one round trip (a refusal aborts the transaction and the COMMIT).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION oms_refuse_stock(guard integer) RETURNS integer
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'stock guard % refused', guard USING ERRCODE = 'OMS01', DETAIL = guard::text;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS oms_refuse_stock(integer)")
