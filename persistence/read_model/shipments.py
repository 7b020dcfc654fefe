"""Shipments as staff look them up: one by id, a location's pick list, and when each one's channel
accepted the notice that it left."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.fulfilment import ShipmentStatus
from persistence.models import ShipmentNoticeOutbox, ShipmentRecord

OPEN = (ShipmentStatus.RESERVED, ShipmentStatus.PICKED, ShipmentStatus.PACKED, ShipmentStatus.READY_FOR_PICKUP)
"""What still has to be done somewhere: reserved, picked, packed, or waiting at the store."""


def get_shipment(session: Session, shipment_id: str) -> ShipmentRecord | None:
    return session.get(ShipmentRecord, shipment_id)


def list_shipments(
    session: Session,
    *,
    location_id: str | None = None,
    status: str | None = None,
    open_only: bool = False,
    limit: int = 100,
    offset: int = 0,
    location_ids: Collection[str] | None = None,
) -> list[ShipmentRecord]:
    """Oldest first. `location_id`: shipped from there, or going there to be collected;
    `location_ids` likewise for any of them (a warehouse user's locations)."""
    query = select(ShipmentRecord)
    if location_id:
        query = query.where((ShipmentRecord.location_id == location_id) | (ShipmentRecord.transfer_to == location_id))
    if location_ids is not None:
        places = sorted(location_ids)
        query = query.where(ShipmentRecord.location_id.in_(places) | ShipmentRecord.transfer_to.in_(places))
    if status:
        query = query.where(ShipmentRecord.status == status.upper())
    if open_only:
        query = query.where(ShipmentRecord.status.in_(OPEN))
    return list(session.scalars(query.order_by(ShipmentRecord.created_at).limit(limit).offset(offset)))


def delivered_notices(session: Session, order_id: str) -> list[ShipmentNoticeOutbox]:
    """The order's notices the channel accepted (closed "not connected" ones are not among them)."""
    return list(
        session.scalars(
            select(ShipmentNoticeOutbox)
            .where(
                ShipmentNoticeOutbox.order_id == order_id,
                ShipmentNoticeOutbox.delivered_at.is_not(None),
                ShipmentNoticeOutbox.last_error.is_(None),
            )
            .order_by(ShipmentNoticeOutbox.id)
        )
    )


def notified_at(session: Session, order_id: str) -> dict[str, datetime]:
    """Shipment id → when its channel accepted the notice, for the order page."""
    return {row.shipment_id: row.delivered_at for row in delivered_notices(session, order_id) if row.delivered_at}
