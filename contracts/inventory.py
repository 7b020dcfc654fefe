"""Reserving stock for an order (sourced over locations), releasing it, and a sale over a store's counter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from temporalio import activity

from domain.sourcing import Destination


@dataclass
class ReserveStockInput:
    order_id: str
    demand: dict[str, int]
    """What is still to be reserved (the whole order, or a backordered remainder)."""
    idempotency_key: str
    at: datetime
    channel: str = ""
    destination: Destination | None = None
    unit_values: dict[str, int] = field(default_factory=dict)
    round: int = 1
    """1 for the first reservation; later rounds (backordered remainders) get their own shipment ids."""
    exchange: str = ""
    """Set for an exchange's replacement ("x<n>", n the return's number on the order): all or
    nothing, the shipment ids end in it, and the order's own status and backorder are left alone."""


@dataclass
class ReservedShipment:
    shipment_id: str
    location_id: str
    lines: dict[str, int]
    transfer_to: str | None = None
    cost_minor: int = 0
    location_kind: str = "warehouse"
    task_queue: str | None = None
    """The location's own task queue (its workers run its ShipmentWorkflows); None: the order's."""


@dataclass
class ReserveStockResult:
    outcome: str
    """RESERVED (all), PARTIAL (some; `unfilled` waits), CONFLICT (lost a race: plan again),
    INSUFFICIENT (backorder), HOLD (a person decides) or CANCEL (the channel's routing says so)."""
    reason: str
    shipments: list[ReservedShipment] = field(default_factory=list)
    unfilled: dict[str, int] = field(default_factory=dict)
    auto_cancel_after_days: int | None = None

    RESERVED: ClassVar[str] = "reserved"
    PARTIAL: ClassVar[str] = "partial"
    CONFLICT: ClassVar[str] = "conflict"
    INSUFFICIENT: ClassVar[str] = "insufficient"
    HOLD: ClassVar[str] = "hold"
    CANCEL: ClassVar[str] = "cancel"


@dataclass
class ReleaseStockInput:
    order_id: str
    shipment_id: str
    location_id: str
    demand: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ReleaseStockResult:
    released: bool


@dataclass
class SellAtCounterInput:
    order_id: str
    location_id: str
    """The store whose counter sold the goods (the order's pickup_location_id)."""
    lines: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class SellAtCounterResult:
    taken: dict[str, int]
    """Units taken off the store's on_hand per SKU."""
    short: dict[str, int] = field(default_factory=dict)
    """Units sold that the record did not hold (a person counts the shelf)."""


class Inventory:
    """The stock activities the order workflow calls (activities.inventory implements them)."""

    @activity.defn
    def reserve_stock(self, data: ReserveStockInput) -> ReserveStockResult:
        raise NotImplementedError

    @activity.defn
    def release_stock(self, data: ReleaseStockInput) -> ReleaseStockResult:
        raise NotImplementedError

    @activity.defn
    def sell_at_counter(self, data: SellAtCounterInput) -> SellAtCounterResult:
        raise NotImplementedError
