"""Which backordered orders wait for which SKUs, so a restock can wake exactly them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from persistence.models import BackorderWait


def wait_for(session: Session, order_id: str, unfilled: Mapping[str, int], since: datetime) -> None:
    forget(session, order_id)
    for sku, quantity in sorted(unfilled.items()):
        session.add(BackorderWait(order_id=order_id, sku=sku, quantity=quantity, since=since))


def forget(session: Session, order_id: str) -> None:
    session.execute(delete(BackorderWait).where(BackorderWait.order_id == order_id))
