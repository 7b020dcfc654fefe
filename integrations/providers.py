"""What the engine needs from a payment gateway and a warehouse/carrier, whatever the vendor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from domain.money import Money
from domain.payment_links import LinkStatus


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


@runtime_checkable
class ReauthorizingGateway(Protocol):
    """A gateway that can hold a new amount on the card of an authorization without the customer
    (an order edit that costs more): Stripe, the sandbox. Mollie cannot: its payments are made by
    the customer at its checkout, one amount each."""

    def reauthorize(self, idempotency_key: str, provider_ref: str, amount: Money, order_id: str) -> GatewayPayment:
        """A new authorization of `amount` on what authorized `provider_ref`, which is left as it is
        (the caller voids it once the new one holds). PaymentDeclined, PaymentRejected (it cannot be
        done without the customer), PaymentGatewayUnavailable, as for authorize."""
        ...


@dataclass(frozen=True)
class PaymentLinkState:
    """A payment link as the provider has it now."""

    link_id: str
    url: str
    """Where the customer pays."""
    amount: Money
    status: LinkStatus
    payment_id: str | None
    """The provider's id of the payment made through the link, once paid."""
    expires_at: datetime | None


@runtime_checkable
class PaymentLinkGateway(Protocol):
    """A gateway that can ask the customer for money after checkout with a link they pay before a
    deadline (Mollie's Payment Links API): for a provider that cannot charge without the customer."""

    def create_payment_link(
        self,
        idempotency_key: str,
        amount: Money,
        description: str,
        expires_at: datetime,
        webhook_url: str | None = None,
    ) -> PaymentLinkState: ...
    def payment_link(self, link_id: str) -> PaymentLinkState: ...
    def archive_payment_link(self, idempotency_key: str, link_id: str) -> PaymentLinkState:
        """Close the link (nobody can pay through it any more), then read it: PAID when the
        customer paid first."""
        ...


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
