"""Read-model queries behind the dashboard's first page: what waits for a person, and where the
engine's outside deliveries are stuck. Nothing here asks Temporal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from domain.status import OrderStatus
from persistence.models import CancellationNoticeOutbox, OrderRecord, ShipmentNoticeOutbox

WAITING_FOR_A_PERSON = (OrderStatus.ON_HOLD.value, OrderStatus.BACKORDERED.value)


@dataclass(frozen=True)
class StuckNotice:
    """A shipment confirmation or cancellation a channel has not accepted yet, after trying."""

    kind: str
    channel: str
    order_id: str
    attempts: int
    last_error: str
    created_at: datetime


def orders_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(OrderRecord.status, func.count()).group_by(OrderRecord.status)).all()
    return {status: int(count) for status, count in rows}


def orders_by_channel(session: Session, since: datetime) -> dict[str, int]:
    rows = session.execute(
        select(OrderRecord.channel, func.count()).where(OrderRecord.received_at >= since).group_by(OrderRecord.channel)
    ).all()
    return {channel: int(count) for channel, count in rows}


def waiting_for_a_person(session: Session, limit: int = 25) -> list[OrderRecord]:
    """Held and backordered orders, the longest-waiting first: they are the ones to look at."""
    return list(
        session.scalars(
            select(OrderRecord)
            .where(OrderRecord.status.in_(WAITING_FOR_A_PERSON))
            .order_by(OrderRecord.received_at, OrderRecord.order_id)
            .limit(limit)
        )
    )


_Notice = TypeVar("_Notice", ShipmentNoticeOutbox, CancellationNoticeOutbox)


def _undelivered(table: type[_Notice], limit: int) -> Select[_Notice]:
    return (
        select(table)
        .where(table.delivered_at.is_(None), table.attempts > 0)
        .order_by(table.created_at, table.id)
        .limit(limit)
    )


def stuck_notices(session: Session, limit: int = 25) -> list[StuckNotice]:
    """Undelivered channel notices that have failed at least once, oldest first."""
    shipments = session.scalars(_undelivered(ShipmentNoticeOutbox, limit)).all()
    cancellations = session.scalars(_undelivered(CancellationNoticeOutbox, limit)).all()
    stuck = [
        StuckNotice(kind, row.channel, row.order_id, row.attempts, row.last_error or "", row.created_at)
        for kind, rows in (("shipment", shipments), ("cancellation", cancellations))
        for row in rows
    ]
    return sorted(stuck, key=lambda notice: notice.created_at)[:limit]
