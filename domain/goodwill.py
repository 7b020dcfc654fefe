"""Goodwill: money back, or store credit, without a return (a late parcel, a scratched box).

Support gives it on an order that shipped, with a reason the timeline shows, and never more than
the customer still has with us on that order: what was captured less what already went back, as a
refund (of returns, of earlier goodwill) or as store credit given in place of money. So goodwill
and refunds together never exceed what was captured, however many times either is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain import limits
from domain.money import Money


class GoodwillForm(StrEnum):
    REFUND = "refund"
    """Money back through the payment provider."""
    STORE_CREDIT = "store_credit"
    """Credit on the customer's account at the shop (domain.store_credit, reason goodwill)."""


class GoodwillRefusalKind(StrEnum):
    INVALID = "invalid"
    """An amount below one minor unit, no reason, or a reason too long to keep: HTTP 422."""
    CURRENCY = "currency"
    """An amount in another currency than the order's: HTTP 422."""
    NOT_SHIPPED = "not_shipped"
    """Nothing of the order shipped (cancel it instead): HTTP 409."""
    TOO_MUCH = "too_much"
    """More than was captured and not yet given back: HTTP 422 (the most that may be given is told)."""


class GoodwillRefused(Exception):
    def __init__(self, kind: GoodwillRefusalKind, message: str, most: Money | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.most = most
        """The most that could be given (TOO_MUCH only)."""


@dataclass(frozen=True)
class Goodwill:
    form: GoodwillForm
    amount: Money
    reason: str


def still_with_us(captured: Money, given_back: Money) -> Money:
    """What of the order's captured money has not gone back yet (never below zero)."""
    return Money(max(0, (captured - given_back).amount_minor), captured.currency)


def check_goodwill(
    form: GoodwillForm,
    amount: Money,
    reason: str,
    *,
    shipped: bool,
    captured: Money,
    given_back: Money,
) -> Goodwill:
    """The goodwill to give, or GoodwillRefused saying why not.

    `captured`: what was taken from the customer on the order; `given_back`: everything that went
    back since, refunds of any kind and store credit issued in place of a refund (returns resolved
    as credit, earlier goodwill credit), all in the order's currency."""
    reason = reason.strip()
    if not reason:
        raise GoodwillRefused(GoodwillRefusalKind.INVALID, "goodwill needs a reason, for the timeline")
    if len(reason) > limits.LEDGER_REASON:
        longest = limits.LEDGER_REASON
        raise GoodwillRefused(GoodwillRefusalKind.INVALID, f"the reason may be at most {longest} characters")
    if amount.currency != captured.currency or given_back.currency != captured.currency:
        raise GoodwillRefused(
            GoodwillRefusalKind.CURRENCY, f"the order was paid in {captured.currency}, not {amount.currency}"
        )
    if amount.amount_minor < 1:
        raise GoodwillRefused(GoodwillRefusalKind.INVALID, "goodwill must be more than zero")
    if not shipped:
        raise GoodwillRefused(GoodwillRefusalKind.NOT_SHIPPED, "nothing of this order shipped: cancel it instead")
    most = still_with_us(captured, given_back)
    if amount.amount_minor > most.amount_minor:
        raise GoodwillRefused(
            GoodwillRefusalKind.TOO_MUCH,
            f"{amount.format()} asked, but only {most.format()} was captured and not yet given back",
            most=most,
        )
    return Goodwill(form, amount, reason)
