"""A cancel and a handover cannot both win: the cancel is claimed under the order row's lock, which
the handover step takes too, so whichever comes second sees the first.

A cancel is claimed here before the workflow is told of it (services.cancel, which forgets the claim
when the workflow cannot be told); the step that hands goods over asks `handover_allowed` in its own
transaction. Row
locks on PostgreSQL; SQLite's one write lock, taken at BEGIN, serializes them the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from domain.order import FULFILLED_AT_COUNTER
from domain.outside_fulfilment import COUNTER_SALE_REFUSAL
from persistence.models import OrderRecord, ShipmentRecord

HANDED_OVER_REFUSAL = "a shipment of this order has left; request a return instead"


def claim_cancel(session: Session, order_id: str, at: datetime) -> str | None:
    """Take a cancel unless a shipment has already left: under the order row's lock, which a
    handover takes too (`handover_allowed`). Returns why not, or None when taken (or unknown order).
    A counter sale is never taken: its goods left with the customer before we heard of it."""
    record = session.scalar(select(OrderRecord).where(OrderRecord.order_id == order_id).with_for_update())
    if record is None:
        return None
    if record.fulfilled_by == FULFILLED_AT_COUNTER:
        return COUNTER_SALE_REFUSAL
    left = session.scalar(
        select(ShipmentRecord.shipment_id)
        .where(
            ShipmentRecord.order_id == order_id,
            or_(ShipmentRecord.shipped_at.is_not(None), ShipmentRecord.collected_at.is_not(None)),
        )
        .limit(1)
    )
    if left is not None:
        return HANDED_OVER_REFUSAL
    if record.cancel_requested_at is None:
        record.cancel_requested_at = at
    return None


def forget_cancel_claim(session: Session, order_id: str) -> None:
    """The cancel could not be delivered to the workflow: let shipments leave again."""
    session.execute(
        update(OrderRecord).where(OrderRecord.order_id == order_id).values(cancel_requested_at=None),
        execution_options={"synchronize_session": False},
    )


def handover_allowed(session: Session, order_id: str) -> bool:
    """Lock the order row and say whether goods may leave (no cancel has been taken)."""
    requested = session.execute(
        select(OrderRecord.cancel_requested_at).where(OrderRecord.order_id == order_id).with_for_update()
    ).first()
    return requested is None or requested[0] is None


def withdrawn_by_edit(session: Session, shipment_id: str) -> bool:
    """Whether an order edit took units off this shipment (activities.order_edits marks it under the
    order row's lock, which the caller holds from `handover_allowed`): it must not leave. Read
    afresh, not from the session's copy of the row, which was loaded before the lock."""
    marked = session.scalar(select(ShipmentRecord.edit_withdrawn_at).where(ShipmentRecord.shipment_id == shipment_id))
    return marked is not None
