"""The warehouse floor and the store counter as their staff read them: a location's pick list
(oldest deadline first, late steps marked), one shipment with what a picker and a packing slip need,
the counter's pickups, and where each SKU lies (its bin). Step confirmations themselves go through
services.shipments, like the JSON API's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config import Settings
from domain.fulfilment import DEFAULT_SLAS, ShipmentKind, ShipmentStatus, Step, sla_for
from domain.limits import BIN
from domain.picking import StepTimes, pickup_location, step_due, waiting_step, where_step_happens
from persistence.models import Location, ShipmentRecord
from persistence.read_model.warehouse_floor import FloorRows
from services.errors import NotFound, Unprocessable
from services.unit_of_work import UnitOfWorkFactory

EXPIRED_SHOWN = 50


@dataclass(frozen=True)
class FloorLine:
    sku: str
    quantity: int
    name: str
    ean: str | None
    bin: str | None


@dataclass(frozen=True)
class FloorShipment:
    """A shipment as the floor sees it: the step it waits for, where and by when."""

    record: ShipmentRecord
    lines: list[FloorLine]
    step: Step | None
    step_location: str | None
    pickup_location: str | None
    due_at: datetime | None
    late: bool
    """Its step's deadline has passed (an escalation was raised, or the time says so)."""
    order_number: str
    """What the customer calls the order: the channel's reference, else its id there."""
    ship_to: dict[str, Any]
    customer_email: str
    channel_order_id: str = ""

    @property
    def shipment_id(self) -> str:
        return self.record.shipment_id

    @property
    def order_id(self) -> str:
        return self.record.order_id

    @property
    def customer_name(self) -> str:
        return str(self.ship_to.get("name") or "")

    @property
    def eans(self) -> dict[str, str | None]:
        return {line.sku: line.ean for line in self.lines}

    @property
    def requested(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}


@dataclass(frozen=True)
class Counter:
    """A store's counter: pickups waiting for their customer, pickups still to put on the shelf, and
    the ones that expired."""

    ready: list[FloorShipment]
    to_shelve: list[FloorShipment]
    expired: list[FloorShipment]


class WarehouseFloor:
    def __init__(self, units: UnitOfWorkFactory, settings: Settings) -> None:
        self._units = units
        self._slas = {kind: {**steps, **settings.sla_overrides.get(kind, {})} for kind, steps in DEFAULT_SLAS.items()}
        self._pickup_expiry = int(settings.pickup_expiry.total_seconds())

    def locations(self) -> list[Location]:
        with self._units(read_only=True) as uow:
            return uow.locations.all()

    def pick_list(self, location_id: str, now: datetime) -> list[FloorShipment]:
        """The steps to do at the location before a customer comes in (pick, pack, ship, put on the
        pickup shelf), the earliest deadline first; those without one after, oldest first."""
        with self._units(read_only=True) as uow:
            rows = uow.shipments.open_at(location_id)
        floor = [self._shaped(rows, record, now) for record in rows.shipments]
        todo = [s for s in floor if s.step not in (None, Step.COLLECT) and s.step_location == location_id]
        return sorted(todo, key=lambda s: (s.due_at is None, s.due_at or s.record.created_at, s.record.created_at))

    def counter(self, location_id: str, now: datetime, search: str = "") -> Counter:
        """The store's pickups; `search` keeps those whose order number or customer name holds it."""
        with self._units(read_only=True) as uow:
            rows = uow.shipments.open_at(location_id)
            gone = uow.shipments.expired_at(location_id, EXPIRED_SHOWN)
        here = [
            s
            for s in (self._shaped(rows, record, now) for record in rows.shipments)
            if s.pickup_location == location_id and _matches(s, search)
        ]
        ready = [s for s in here if s.record.status == ShipmentStatus.READY_FOR_PICKUP]
        to_shelve = [s for s in here if s.step is Step.READY and s.step_location == location_id]
        expired = [
            s
            for s in (self._shaped(gone, record, now) for record in gone.shipments)
            if s.pickup_location == location_id and _matches(s, search)
        ]
        return Counter(
            sorted(ready, key=lambda s: s.record.ready_at or s.record.created_at),
            sorted(to_shelve, key=lambda s: (s.due_at is None, s.due_at or s.record.created_at)),
            expired,
        )

    def shipment(self, shipment_id: str, now: datetime) -> FloorShipment:
        """NotFound for an unknown shipment."""
        with self._units(read_only=True) as uow:
            rows = uow.shipments.on_the_floor(shipment_id)
        if rows is None:
            raise NotFound(f"no shipment {shipment_id}")
        return self._shaped(rows, rows.shipments[0], now)

    def set_bin(self, location_id: str, sku: str, bin_: str) -> None:
        """Note where a SKU lies (an empty bin forgets it). NotFound when the location holds no stock
        record of the SKU; Unprocessable for a bin too long to be one."""
        cleaned = bin_.strip()
        if len(cleaned) > BIN:
            raise Unprocessable(f"a bin is at most {BIN} characters")
        with self._units() as uow:
            if not uow.shipments.set_bin(location_id, sku, cleaned or None):
                raise NotFound(f"{location_id} holds no stock record of {sku}")
            uow.commit()

    def _shaped(self, rows: FloorRows, record: ShipmentRecord, now: datetime) -> FloorShipment:
        step = waiting_step(record.kind, record.status)
        at = where_step_happens(step, record.kind, record.location_id, record.transfer_to) if step else None
        due: datetime | None = None
        escalated = rows.late.get(record.shipment_id, {})
        if step is not None:
            due = escalated.get(step.value) or step_due(
                step,
                StepTimes(record.created_at, record.picked_at, record.packed_at, record.shipped_at, record.ready_at),
                sla_for(rows.location_kinds.get(record.location_id, "warehouse"), self._slas),
                self._pickup_expiry,
            )
        order = rows.orders.get(record.order_id)
        lines = [
            FloorLine(
                sku,
                quantity,
                (rows.products.get(sku) or ("", None))[0],
                (rows.products.get(sku) or ("", None))[1],
                rows.bins.get((record.location_id, sku)),
            )
            for sku, quantity in (record.lines or {}).items()
        ]
        return FloorShipment(
            record=record,
            lines=lines,
            step=step,
            step_location=at,
            pickup_location=pickup_location(record.kind, record.location_id, record.transfer_to)
            if record.kind != ShipmentKind.DELIVERY
            else None,
            due_at=due,
            late=step is not None and (step.value in escalated or (due is not None and due < now)),
            order_number=(order.reference or order.external_id or record.order_id) if order else record.order_id,
            ship_to=dict(order.shipping_address) if order else {},
            customer_email=order.customer_email if order else "",
            channel_order_id=order.external_id if order else "",
        )


def _matches(shipment: FloorShipment, search: str) -> bool:
    wanted = search.strip().casefold()
    if not wanted:
        return True
    return any(wanted in text.casefold() for text in _searchable(shipment))


def _searchable(shipment: FloorShipment) -> list[str]:
    return [shipment.order_id, shipment.order_number, shipment.channel_order_id, shipment.customer_name]
