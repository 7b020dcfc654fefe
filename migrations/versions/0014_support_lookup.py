"""Support finds an order by its number, the channel's id, the customer's e-mail or postcode: each
indexed, the e-mail and postcode as one key whatever their case and spacing (domain.lookup). And the
charges beyond lines and shipping (tips, duties) are kept, so a return's refund can be worked out
from the read model to the cent before it is asked for.

Existing orders get their keys from what was stored (the e-mail column, the shipping address);
their charges stay unknown (NULL: worked out from the totals, exact whenever they reconcile).

Revision ID: 0014
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from domain.lookup import email_key, postcode_key

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

_orders = sa.table(
    "orders",
    sa.column("order_id", sa.String()),
    sa.column("customer_email", sa.String()),
    sa.column("shipping_address", sa.JSON().with_variant(JSONB(), "postgresql")),
    sa.column("email_key", sa.String()),
    sa.column("postcode_key", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=320), server_default="", nullable=False))
        batch_op.add_column(sa.Column("postcode_key", sa.String(length=32), server_default="", nullable=False))
        batch_op.add_column(sa.Column("charges_minor", sa.BigInteger(), nullable=True))
    _fill_keys()
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_external_id", ["external_id"])
        batch_op.create_index("ix_orders_reference", ["reference"])
        batch_op.create_index("ix_orders_email_key", ["email_key"])
        batch_op.create_index("ix_orders_postcode_key", ["postcode_key"])


def _fill_keys() -> None:
    """In batches by order id, in Python: the same rule as new orders get (SQL's lower() and
    whitespace handling differ between the databases). Nothing of it is logged."""
    connection = op.get_bind()
    after = ""
    while True:
        rows = connection.execute(
            sa.select(_orders.c.order_id, _orders.c.customer_email, _orders.c.shipping_address)
            .where(_orders.c.order_id > after)
            .order_by(_orders.c.order_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for order_id, email, address in rows:
            postcode = address.get("postcode") if isinstance(address, dict) else None
            keys = {
                "email_key": email_key(email if isinstance(email, str) else ""),
                "postcode_key": postcode_key(postcode if isinstance(postcode, str) else ""),
            }
            if any(keys.values()):
                connection.execute(sa.update(_orders).where(_orders.c.order_id == order_id).values(**keys))
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_postcode_key")
        batch_op.drop_index("ix_orders_email_key")
        batch_op.drop_index("ix_orders_reference")
        batch_op.drop_index("ix_orders_external_id")
        batch_op.drop_column("charges_minor")
        batch_op.drop_column("postcode_key")
        batch_op.drop_column("email_key")
