"""Where a parcel is after the handover: a carrier's report (Sendcloud's webhook) or a person marking
it delivered, whichever carrier brought it.

Shipment workflows end at the handover, so this is the read model's business, not a workflow's:
the report is recorded once, moves the shipment only forward, and once every parcel to the
customer's address is delivered the order has its delivered_at. Then, after the transaction, the
order's workflow hears of it (signal `delivered`): its returns window counts from the delivery. A
redelivered report tells the workflow again, so a signal lost while the engine was away is sent by
the carrier's retry; a workflow whose run has ended (window closed) needs nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.order_workflow import DeliveredNotice
from domain.carrier_events import HANDED_OVER, CarrierEvent
from domain.fulfilment import ShipmentKind, ShipmentStatus
from persistence.read_model.deliveries import Recorded
from services.errors import Conflict, NotFound, Unprocessable
from services.gateway import WorkflowGateway, WorkflowNotFound, WorkflowNotRunning
from services.unit_of_work import UnitOfWorkFactory

STAFF_CARRIER = "staff"
"""The carrier name on reports people make (POST /shipments/{id}/delivered)."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a person's delivery time may be."""


class Deliveries:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway) -> None:
        self._units = units
        self._workflows = workflows

    async def report(self, event: CarrierEvent) -> Recorded:
        """Record a carrier's report; EngineUnavailable or EngineError when the order's workflow could
        not be told (the report is kept: the carrier's retry tells it)."""
        with self._units() as uow:
            recorded = uow.deliveries.record(event, datetime.now(UTC))
            uow.commit()
        await self._tell_the_order(recorded)
        return recorded

    async def mark_delivered(self, shipment_id: str, at: datetime | None, by: str) -> Recorded:
        """A person says the parcel arrived (no carrier integration tells us): NotFound, Conflict
        when it has not left or is not a parcel to the customer's address, Unprocessable for a
        time before it shipped or in the future."""
        now = datetime.now(UTC)
        at = at or now
        with self._units(read_only=True) as uow:
            shipment = uow.shipments.get(shipment_id)
            if shipment is None:
                raise NotFound(f"shipment {shipment_id} not found")
            if shipment.kind != ShipmentKind.DELIVERY.value:
                raise Conflict(f"shipment {shipment_id} goes to a store: it is collected there, not delivered")
            if shipment.status not in HANDED_OVER or shipment.shipped_at is None:
                raise Conflict(f"shipment {shipment_id} is {shipment.status}: it has not left yet")
            if shipment.status == ShipmentStatus.RETURNED_TO_SENDER:
                raise Conflict(f"shipment {shipment_id} was returned to sender")
            if at < shipment.shipped_at:
                raise Unprocessable(f"delivered_at is before the shipment left ({shipment.shipped_at.isoformat()})")
        if at > now + CLOCK_SKEW:
            raise Unprocessable("delivered_at is in the future")
        event = CarrierEvent(
            carrier=STAFF_CARRIER,
            event_id=f"{shipment_id}:delivered:{at.isoformat()}",
            occurred_at=at,
            status=ShipmentStatus.DELIVERED,
            description=f"marked delivered by {by}" if by else "marked delivered",
            shipment_id=shipment_id,
        )
        return await self.report(event)

    async def _tell_the_order(self, recorded: Recorded) -> None:
        if recorded.order_id is None or recorded.order_delivered_at is None:
            return  # not delivered yet (or an unknown parcel): nothing for the order to hear
        try:
            await self._workflows.order_delivered(recorded.order_id, DeliveredNotice(recorded.order_delivered_at))
        except (WorkflowNotFound, WorkflowNotRunning):
            return  # the run has ended (Temporal: "already completed"): its window is closed
