"""Carrier labels kept with their shipment: the documents (outbound and return), and what a label
request needs to know (the shipment, the location that sends it, the order it goes to)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Location, OrderRecord, ShipmentLabel, ShipmentRecord

OUTBOUND = "outbound"
RETURN = "return"


@dataclass(frozen=True)
class LabelParties:
    shipment: ShipmentRecord
    sender: Location | None
    order: OrderRecord | None


def label_parties(session: Session, shipment_id: str) -> LabelParties | None:
    shipment = session.get(ShipmentRecord, shipment_id)
    if shipment is None:
        return None
    sender = session.get(Location, shipment.location_id)
    return LabelParties(shipment, sender, session.get(OrderRecord, shipment.order_id))


def stored_label(session: Session, shipment_id: str, purpose: str = OUTBOUND) -> ShipmentLabel | None:
    return session.get(ShipmentLabel, (shipment_id, purpose))


def label_summary(session: Session, shipment_id: str, purpose: str = OUTBOUND) -> tuple[str, str, str] | None:
    """(carrier, tracking number, reference) without loading the document."""
    row = session.execute(
        select(ShipmentLabel.carrier, ShipmentLabel.tracking_number, ShipmentLabel.reference).where(
            ShipmentLabel.shipment_id == shipment_id, ShipmentLabel.purpose == purpose
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


def keep_label(
    session: Session,
    shipment_id: str,
    purpose: str,
    *,
    carrier: str,
    tracking_number: str,
    reference: str,
    tracking_url: str,
    media_type: str,
    document: bytes,
    at: datetime,
) -> ShipmentLabel:
    """The label as first kept: a second one for the same shipment and purpose is not stored."""
    existing = stored_label(session, shipment_id, purpose)
    if existing is not None:
        return existing
    label = ShipmentLabel(
        shipment_id=shipment_id,
        purpose=purpose,
        carrier=carrier,
        tracking_number=tracking_number,
        reference=reference,
        tracking_url=tracking_url,
        media_type=media_type,
        document=document,
        created_at=at,
    )
    session.add(label)
    return label
