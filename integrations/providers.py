"""What the engine needs from a payment gateway and a warehouse/carrier, whatever the vendor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.money import Money


class PaymentDeclined(Exception):
    """The gateway refused the payment: a business outcome, not a fault to retry."""


class PaymentRejected(ValueError):
    """The gateway refused the request itself (unknown payment method or intent, a state that does
    not allow the step, a key reused with other parameters): retrying the same request cannot help;
    a person or a code fix must."""


class PaymentGatewayUnavailable(RuntimeError):
    """The gateway could not be asked right now (refused our key, rate limited, down, no answer):
    transient, retried with backoff; `retry_after` is the wait it asked for, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class GatewayPayment:
    provider: str
    provider_ref: str
    status: str
    """authorized, paid (taken at checkout: capturing is a no-op), captured, voided, refunded (a void
    of money already taken gives it back)."""
    amount: Money
    multicapture: bool = False
    """The authorization takes several partial captures (Stripe multicapture, when available)."""


class PaymentGateway(Protocol):
    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment: ...
    def capture(
        self, idempotency_key: str, provider_ref: str, amount: Money, *, final: bool = True
    ) -> GatewayPayment: ...
    def void(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment: ...
    def refund(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment: ...


@dataclass(frozen=True)
class Dispatch:
    carrier: str
    tracking_number: str
    label_ref: str


class Warehouse(Protocol):
    def request_pick(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None: ...
    def confirm_pack(self, shipment_id: str) -> None: ...
    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch: ...
    def withdraw(self, shipment_id: str, location_id: str) -> None:
        """Take back a pick request: the order no longer wants the shipment (a no-op if none was sent)."""
        ...
