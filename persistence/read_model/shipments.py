"""Shipments as staff look them up: one by id, or a location's pick list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.fulfilment import ShipmentStatus
from persistence.models import ShipmentRecord

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
) -> list[ShipmentRecord]:
    """Oldest first. `location_id`: shipped from there, or going there to be collected."""
    query = select(ShipmentRecord)
    if location_id:
        query = query.where((ShipmentRecord.location_id == location_id) | (ShipmentRecord.transfer_to == location_id))
    if status:
        query = query.where(ShipmentRecord.status == status.upper())
    if open_only:
        query = query.where(ShipmentRecord.status.in_(OPEN))
    return list(session.scalars(query.order_by(ShipmentRecord.created_at).limit(limit).offset(offset)))
