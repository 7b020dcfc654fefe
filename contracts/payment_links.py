"""Asking the customer for money after checkout with a payment link (activities.payment_links):
opened with a deadline, read when the provider says something changed (or on a schedule), closed at
the deadline or when what it pays for is called off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity

from domain.money import Money


@dataclass
class OpenPaymentLinkInput:
    order_id: str
    owner: str
    """The workflow that waits for the payment (a return id, or the order id for an edit): told
    when it is paid (signal `payment_link_changed`)."""
    purpose: str
    """exchange (an exchange's dearer replacement) or edit_increase (what an order edit costs more)."""
    amount: Money
    description: str
    """Shown to the customer at the provider (no personal data)."""
    idempotency_key: str
    at: datetime
    payment_id: str = ""
    """The order's payment the link becomes once paid (`payment-<order id>-x<n>`, purpose
    exchange_difference); empty: `payment-<order id>-<link id>`."""


@dataclass
class PaymentLinkOpened:
    link_id: str | None
    """None: the order's payment provider cannot ask by link (see `refusal`)."""
    url: str = ""
    expires_at: datetime | None = None
    refusal: str = ""


@dataclass
class PaymentLinkStepInput:
    order_id: str
    link_id: str
    idempotency_key: str
    at: datetime
    close_as: str = "expired"
    """For close_payment_link: domain.payment_links.LinkStatus it is closed as (expired, cancelled)."""


@dataclass
class PaymentLinkChecked:
    status: str
    """domain.payment_links.LinkStatus as recorded."""


class PaymentLinks:
    """The payment link activities (activities.payment_links implements them)."""

    @activity.defn
    def open_payment_link(self, data: OpenPaymentLinkInput) -> PaymentLinkOpened:
        raise NotImplementedError

    @activity.defn
    def check_payment_link(self, data: PaymentLinkStepInput) -> PaymentLinkChecked:
        raise NotImplementedError

    @activity.defn
    def close_payment_link(self, data: PaymentLinkStepInput) -> PaymentLinkChecked:
        raise NotImplementedError
