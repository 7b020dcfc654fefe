"""Carrier reports on the read model: each recorded once, the shipment moved only forward
(domain.carrier_events), on the order's timeline, and the order's delivered_at once its last
parcel to the customer arrived.

The order row is locked before the shipment's (as the handover locks it), so two parcels of one
order delivered at the same moment cannot both miss that the other one arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.carrier_events import (
    HANDED_OVER,
    CarrierEvent,
    Outcome,
    ParcelState,
    next_status,
    order_delivered_at,
)
from domain.fulfilment import ShipmentKind, ShipmentStatus
from domain.outbound_events import EventType
from persistence.guarded_writes.events_outbox import emit
from persistence.models import CarrierEventRecord, OrderRecord, ShipmentRecord
from persistence.read_model.orders import add_event


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    shipment_id: str | None = None
    order_id: str | None = None
    status: str | None = None
    """The shipment's status after the report."""
    order_delivered_at: datetime | None = None


def find_shipment(session: Session, shipment_id: str | None, tracking_number: str | None) -> ShipmentRecord | None:
    """By our own id when the carrier echoes it, else by tracking number (the latest to leave)."""
    if shipment_id:
        found = session.get(ShipmentRecord, shipment_id)
        if found is not None:
            return found
    if not tracking_number:
        return None
    query = (
        select(ShipmentRecord)
        .where(ShipmentRecord.tracking_number == tracking_number)
        .order_by(ShipmentRecord.shipped_at.desc(), ShipmentRecord.shipment_id)
        .limit(1)
    )
    return session.scalar(query)


def record_carrier_event(session: Session, event: CarrierEvent, now: datetime) -> Recorded:
    """Record the report against its shipment; `now` caps a carrier's clock that runs ahead."""
    found = find_shipment(session, event.shipment_id, event.tracking_number)
    if found is None:
        return Recorded(Outcome.UNKNOWN_PARCEL)
    order = session.scalar(select(OrderRecord).where(OrderRecord.order_id == found.order_id).with_for_update())
    shipment = session.scalar(
        select(ShipmentRecord)
        .where(ShipmentRecord.shipment_id == found.shipment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert order is not None and shipment is not None  # rows are never deleted
    repeated = session.scalar(
        select(CarrierEventRecord.id).where(
            CarrierEventRecord.carrier == event.carrier, CarrierEventRecord.event_id == event.event_id
        )
    )
    if repeated is not None:
        return _recorded(Outcome.REPEATED, shipment, order)
    outcome = _apply(session, event, shipment, min(event.occurred_at, now))
    session.add(
        CarrierEventRecord(
            carrier=event.carrier,
            event_id=event.event_id,
            shipment_id=shipment.shipment_id,
            tracking_number=event.tracking_number,
            status=event.status.value if event.status else None,
            description=event.description,
            outcome=outcome.value,
            occurred_at=event.occurred_at,
            received_at=now,
        )
    )
    if outcome is Outcome.MOVED and shipment.status == ShipmentStatus.DELIVERED:
        _note_order_delivered(session, order)
    return _recorded(outcome, shipment, order)


def _apply(session: Session, event: CarrierEvent, shipment: ShipmentRecord, at: datetime) -> Outcome:
    """Move the shipment if the report takes it further, and put the report on the timeline."""
    where = f"{shipment.shipment_id}: {event.description or 'carrier report'} ({event.carrier})"
    if shipment.kind != ShipmentKind.DELIVERY.value:
        outcome = Outcome.NOT_A_DELIVERY
    elif shipment.status not in HANDED_OVER:
        outcome = Outcome.NOT_HANDED_OVER
    else:
        moved_to = next_status(shipment.status, shipment.carrier_reported_at, event.status, event.occurred_at)
        if moved_to is None:
            outcome = Outcome.KEPT
        else:
            shipment.status, shipment.carrier_reported_at = moved_to.value, event.occurred_at
            if moved_to is ShipmentStatus.DELIVERED:
                shipped = shipment.shipped_at
                shipment.delivered_at = max(at, shipped) if shipped is not None else at
                delivered = {
                    "order_id": shipment.order_id,
                    "shipment_id": shipment.shipment_id,
                    "delivered_at": shipment.delivered_at.isoformat(),
                }
                emit(session, EventType.SHIPMENT_DELIVERED, delivered, ordering_key=shipment.order_id, at=at)
            add_event(session, shipment.order_id, f"shipment_{moved_to.value.lower()}", where, at)
            return Outcome.MOVED
    add_event(session, shipment.order_id, "carrier_event", f"{where}; {outcome.value.replace('_', ' ')}", at)
    return outcome


def note_order_delivered(session: Session, order_id: str) -> None:
    """Once the order is SHIPPED (in this transaction, which holds its row): its last parcel may have
    been reported delivered before everything had left (a capture retried for hours), and no later
    report would set its delivered_at. Its returns window, opening now, is longer than one counted
    from that delivery anyway: only the read model needs to know."""
    order = session.scalar(
        select(OrderRecord)
        .where(OrderRecord.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is not None:
        _note_order_delivered(session, order)


def _note_order_delivered(session: Session, order: OrderRecord) -> None:
    if order.delivered_at is not None:
        return
    session.flush()
    parcels = session.execute(
        select(ShipmentRecord.kind, ShipmentRecord.status, ShipmentRecord.delivered_at).where(
            ShipmentRecord.order_id == order.order_id
        )
    ).all()
    delivered_at = order_delivered_at(order.status, [ParcelState(*row) for row in parcels])
    if delivered_at is not None:
        order.delivered_at = delivered_at
        add_event(session, order.order_id, "delivered", "every parcel is with the customer", delivered_at)


def _recorded(outcome: Outcome, shipment: ShipmentRecord, order: OrderRecord) -> Recorded:
    return Recorded(outcome, shipment.shipment_id, order.order_id, shipment.status, order.delivered_at)
