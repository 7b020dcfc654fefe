"""Inputs and results of every workflow, activity, signal and query (one dataclass in, one out).

Imports nothing heavy so the workflow sandbox can load it; fields may be added later with
defaults without breaking running workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from domain.money import Money
from domain.order import Order
from domain.status import OrderStatus

# ApplicationError types the workflow branches on (never matched by message text).
PAYMENT_DECLINED = "PaymentDeclined"


@dataclass
class OrderWorkflowInput:
    order: Order
    received_at: datetime
    return_window_seconds: int


@dataclass
class OrderWorkflowResult:
    order_id: str
    status: OrderStatus


@dataclass
class CancelRequest:
    reason: str = ""
    requested_by: str = ""


@dataclass
class ReleaseRequest:
    note: str = ""
    released_by: str = ""


@dataclass
class ShipmentState:
    shipment_id: str
    location_id: str
    status: str
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass
class OrderState:
    """The live view of one order, answered by the workflow's query."""

    order_id: str
    status: OrderStatus
    hold_reason: str | None = None
    shipping_started: bool = False
    cancel_requested: bool = False
    payment_status: str | None = None
    shipments: list[ShipmentState] = field(default_factory=list)


@dataclass
class RecordOrderInput:
    order: Order
    received_at: datetime


@dataclass
class RecordOrderResult:
    created: bool


@dataclass
class ValidateOrderInput:
    order: Order
    attempt: int
    at: datetime


@dataclass
class ValidateOrderResult:
    hold_reasons: list[str]


@dataclass
class ChangeStatusInput:
    order_id: str
    status: OrderStatus
    idempotency_key: str
    at: datetime
    hold_reason: str | None = None
    detail: str = ""


@dataclass
class ChangeStatusResult:
    status: OrderStatus


@dataclass
class ReserveStockInput:
    order_id: str
    demand: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ReserveStockResult:
    outcome: str
    """"reserved", "conflict" (lost a race: plan again) or "insufficient" (no location can ship)."""
    reason: str
    location_id: str | None = None
    shipment_id: str | None = None

    RESERVED: ClassVar[str] = "reserved"
    CONFLICT: ClassVar[str] = "conflict"
    INSUFFICIENT: ClassVar[str] = "insufficient"


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
class ShipmentStepInput:
    order_id: str
    shipment_id: str
    location_id: str
    demand: dict[str, int]
    idempotency_key: str
    at: datetime


@dataclass
class ShipmentStepResult:
    shipment_id: str
    status: str
    carrier: str | None = None
    tracking_number: str | None = None
    label_ref: str | None = None


@dataclass
class AuthorizePaymentInput:
    order_id: str
    amount: Money
    payment_method: str
    idempotency_key: str
    at: datetime


@dataclass
class PaymentStepInput:
    order_id: str
    payment_id: str
    amount: Money
    idempotency_key: str
    at: datetime


@dataclass
class PaymentResult:
    payment_id: str
    status: str
    amount: Money
