"""Taking the customer's money: authorize at intake (anew when an edit costs more), capture per
shipment as it leaves, void the rest; authorize an exchange's difference as a payment of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity

from domain.money import Money
from domain.payments import PaymentStatus


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
    final: bool = True
    """For a capture: the last one, releasing what is left of the authorization with it."""


@dataclass
class PaymentResult:
    payment_id: str
    status: PaymentStatus
    """Where the payment stands after the step (as its record says)."""
    amount: Money
    multicapture: bool = False
    """The authorization takes several partial captures (one per shipment as it leaves)."""


@dataclass
class ReauthorizePaymentInput:
    """An edited order costs more than the card holds: hold `amount` anew on the same card."""

    order_id: str
    payment_id: str
    amount: Money
    """The edited order's gateway part (Order.gateway_total)."""
    idempotency_key: str
    at: datetime


@dataclass
class Reauthorization:
    payment: PaymentResult
    """The new authorization, now the order's payment (the same payment_id, its record updated)."""
    replaced_ref: str
    """The provider's reference of the authorization it replaces: still held until voided."""
    replaced: Money


@dataclass
class VoidReplacedInput:
    order_id: str
    payment_id: str
    provider_ref: str
    """The replaced authorization (Reauthorization.replaced_ref)."""
    amount: Money
    idempotency_key: str
    at: datetime


@dataclass
class ChargeDifferenceInput:
    """An exchange's replacement costs more than the returned units were worth: charge `amount` as
    a new payment of the order (`payment_id`, e.g. `payment-<order id>-x1`) on the card that paid
    for the order, without the customer there."""

    order_id: str
    return_id: str
    payment_id: str
    amount: Money
    idempotency_key: str
    at: datetime


class Payments:
    """The payment activities the order workflow calls (activities.payments implements them)."""

    @activity.defn
    def authorize_payment(self, data: AuthorizePaymentInput) -> PaymentResult:
        raise NotImplementedError

    @activity.defn
    def capture_payment(self, data: PaymentStepInput) -> PaymentResult:
        raise NotImplementedError

    @activity.defn
    def void_payment(self, data: PaymentStepInput) -> PaymentResult:
        raise NotImplementedError

    @activity.defn
    def reauthorize_payment(self, data: ReauthorizePaymentInput) -> Reauthorization:
        raise NotImplementedError

    @activity.defn
    def void_replaced_authorization(self, data: VoidReplacedInput) -> None:
        raise NotImplementedError

    @activity.defn
    def charge_difference(self, data: ChargeDifferenceInput) -> PaymentResult:
        raise NotImplementedError
