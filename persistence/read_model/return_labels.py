"""Return labels kept per return (`return_labels`): what a label request needs to know (the parcel
the goods left in, the location they go back to, the order), and what the API and screens show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.fulfilment import ShipmentKind
from persistence.models import Location, OrderLineRecord, OrderRecord, ReturnLabelRecord, ShipmentLabel, ShipmentRecord
from persistence.read_model.labels import OUTBOUND

READY = "ready"
PENDING = "pending"
REFUSED = "refused"
NONE = "none"
"""No carrier integration for this order: the customer ships it themselves."""
CANCELLED = "cancelled"
"""The return was cancelled or expired: its label was cancelled at the carrier (no longer served)."""


def label_url(return_id: str) -> str:
    """Where this API serves the label's PDF."""
    return f"/returns/{return_id}/label"


@dataclass(frozen=True)
class ReturnLabelView:
    """A return's label as people see it (without the document)."""

    return_id: str
    rma: str
    status: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str
    label_url: str | None
    """Set when the label is ready."""
    problem: str | None
    location_id: str | None


def return_label_for(session: Session, return_id: str) -> ReturnLabelView | None:
    """The return's label (ready, pending, refused or none), or None when none was asked for yet."""
    row = session.execute(
        select(
            ReturnLabelRecord.rma,
            ReturnLabelRecord.status,
            ReturnLabelRecord.carrier,
            ReturnLabelRecord.tracking_number,
            ReturnLabelRecord.tracking_url,
            ReturnLabelRecord.problem,
            ReturnLabelRecord.location_id,
        ).where(ReturnLabelRecord.return_id == return_id)
    ).first()
    if row is None:
        return None
    rma, status, carrier, tracking, tracking_url, problem, location_id = row
    url = label_url(return_id) if status == READY else None
    return ReturnLabelView(return_id, rma, status, carrier, tracking, tracking_url or "", url, problem, location_id)


def stored(session: Session, return_id: str) -> ReturnLabelRecord | None:
    return session.get(ReturnLabelRecord, return_id)


def label_document(session: Session, return_id: str) -> tuple[bytes, str] | None:
    """(PDF, media type) of a ready label."""
    row = session.execute(
        select(ReturnLabelRecord.document, ReturnLabelRecord.media_type).where(
            ReturnLabelRecord.return_id == return_id, ReturnLabelRecord.status == READY
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return row[0], row[1] or "application/pdf"


@dataclass(frozen=True)
class ReturnSource:
    """Where the goods of a return came from: the order, the parcel they left in (one labelled by
    the carrier integration) and its location, and what the order's lines call them."""

    order: OrderRecord
    shipment: ShipmentRecord
    location: Location
    titles: dict[str, str]


def return_source(
    session: Session, order_id: str, lines: Mapping[str, int], location_id: str | None
) -> ReturnSource | None:
    """The labelled parcel to the customer that carried most of the returned SKUs (the earliest on
    a tie), from `location_id` when given; None when the order left through no carrier integration."""
    order = session.get(OrderRecord, order_id)
    if order is None:
        return None
    query = (
        select(ShipmentRecord)
        .join(
            ShipmentLabel,
            (ShipmentLabel.shipment_id == ShipmentRecord.shipment_id) & (ShipmentLabel.purpose == OUTBOUND),
        )
        .where(ShipmentRecord.order_id == order_id, ShipmentRecord.kind == ShipmentKind.DELIVERY)
        .order_by(ShipmentRecord.created_at, ShipmentRecord.shipment_id)
    )
    if location_id is not None:
        query = query.where(ShipmentRecord.location_id == location_id)
    labelled = list(session.scalars(query))
    if not labelled:
        return None
    shipment = max(labelled, key=lambda s: sum(min(q, (s.lines or {}).get(sku, 0)) for sku, q in lines.items()))
    location = session.get(Location, shipment.location_id)
    if location is None:
        return None
    titles = dict(
        session.execute(
            select(OrderLineRecord.sku, OrderLineRecord.title).where(
                OrderLineRecord.order_id == order_id, OrderLineRecord.sku.in_(list(lines))
            )
        ).all()
    )
    return ReturnSource(order, shipment, location, {sku: str(title or "") for sku, title in titles.items()})


def keep(session: Session, return_id: str, *, order_id: str, rma: str, at: datetime) -> ReturnLabelRecord:
    """The return's row, made when first asked for (status pending until the carrier answers)."""
    row = stored(session, return_id)
    if row is None:
        row = ReturnLabelRecord(
            return_id=return_id,
            order_id=order_id,
            rma=rma,
            status=PENDING,
            tracking_url="",
            created_at=at,
            updated_at=at,
        )
        session.add(row)
    return row
