"""Recording an order, checking it before anything is reserved, and moving its status in the read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity

from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.order import Order
from domain.status import OrderStatus


@dataclass
class RecordOrderInput:
    order: Order
    received_at: datetime


@dataclass
class RecordOrderResult:
    created: bool
    hold_reason: str | None = None
    """Set when the order could not be stored as sent: a placeholder row is ON_HOLD with this
    reason, and the workflow waits for a person (cancel, or release to try recording again)."""


@dataclass
class ValidateOrderInput:
    order: Order
    attempt: int
    at: datetime
    channel_total_accepted: ReleaseRequest | None = None
    """The release by which a person accepted the channel's total (who, why), if one did."""


@dataclass
class ValidateOrderResult:
    hold_reasons: list[str]
    price_mismatch: bool = False


@dataclass
class ChangeStatusInput:
    order_id: str
    status: OrderStatus
    idempotency_key: str
    at: datetime
    hold_reason: str | None = None
    detail: str = ""
    cancel: CancelRequest | None = None
    """With CANCELLED: the cancel being recorded, so the selling channel hears of it in the same
    transaction unless it made it itself. None: not said (steps scheduled before this existed)."""


@dataclass
class ChangeStatusResult:
    status: OrderStatus


class OrderRecords:
    """The order's own records (activities.orders implements them)."""

    @activity.defn
    def record_order(self, data: RecordOrderInput) -> RecordOrderResult:
        raise NotImplementedError

    @activity.defn
    def validate_order(self, data: ValidateOrderInput) -> ValidateOrderResult:
        raise NotImplementedError

    @activity.defn
    def change_status(self, data: ChangeStatusInput) -> ChangeStatusResult:
        raise NotImplementedError
