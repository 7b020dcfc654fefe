"""Which backordered orders wait for which SKUs, so a restock can wake exactly the ones it serves."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain.backorders import Waiting
from persistence.models import BackorderWait, OrderRecord


def wait_for(session: Session, order_id: str, unfilled: Mapping[str, int], since: datetime) -> None:
    """The order waits (again) from `since`: one that was woken and still found nothing goes to the
    back of the queue, so it cannot keep the stock's first turn from the others."""
    forget(session, order_id)
    for sku, quantity in sorted(unfilled.items()):
        session.add(BackorderWait(order_id=order_id, sku=sku, quantity=quantity, since=since))


def forget(session: Session, order_id: str) -> None:
    session.execute(delete(BackorderWait).where(BackorderWait.order_id == order_id))


def waiting(session: Session, skus: Collection[str] | None = None) -> list[Waiting]:
    """Everything the orders that wait for any of `skus` (None: every waiting order) wait for,
    with the channel that sold each."""
    query = select(
        BackorderWait.order_id, OrderRecord.channel, BackorderWait.sku, BackorderWait.quantity, BackorderWait.since
    ).join(OrderRecord, OrderRecord.order_id == BackorderWait.order_id)
    if skus is not None:
        touched = select(BackorderWait.order_id).where(BackorderWait.sku.in_(sorted(skus)))
        query = query.where(BackorderWait.order_id.in_(touched))
    return [Waiting(*row) for row in session.execute(query.order_by(BackorderWait.since, BackorderWait.order_id))]
