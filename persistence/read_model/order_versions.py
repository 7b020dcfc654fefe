"""An order's versions (domain.order_edits.OrderVersion): 1 as placed, one more per accepted edit,
each with what changed, who asked, when and the total after; the order page and GET /orders/{id}
show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.money import Money
from domain.order_edits import OrderVersion
from persistence.models import OrderVersionRecord


def add_version(session: Session, order_id: str, version: OrderVersion, payment: dict[str, Any] | None = None) -> bool:
    """Record `version` once (False when that number is there already)."""
    if session.get(OrderVersionRecord, (order_id, version.number)) is not None:
        return False
    session.add(
        OrderVersionRecord(
            order_id=order_id,
            number=version.number,
            changes=list(version.changes),
            changed_by=version.changed_by,
            reason=version.reason,
            at=version.at,
            total_minor=version.total.amount_minor,
            currency=version.total.currency,
            payment=payment,
        )
    )
    session.flush()
    return True


def versions(session: Session, order_id: str) -> list[OrderVersionRecord]:
    """Oldest first; empty for an order never edited (its one version is the order as placed)."""
    query = select(OrderVersionRecord).where(OrderVersionRecord.order_id == order_id)
    return list(session.scalars(query.order_by(OrderVersionRecord.number)))


def as_version(record: OrderVersionRecord) -> OrderVersion:
    return OrderVersion(
        record.number,
        tuple(record.changes),
        record.changed_by,
        record.reason,
        record.at,
        Money(record.total_minor, record.currency),
    )
