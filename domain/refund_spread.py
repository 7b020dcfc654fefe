"""Spreading a refund over an order's payments, exact to the cent.

An order may hold several payments: its own (authorized at intake) and extra ones (what an
exchange's dearer replacement cost on top). Money goes back through the payment that took it, and
no payment gives back more than was captured on it and not yet refunded. Our rule for the order:
the newest extra payment first, then older extras, the order's own payment last; so the money a
customer paid last (for a replacement) is what goes back first when things are undone, and the
order's payment keeps what its goods were worth for as long as possible.

    parts add up to min(asked, what is left on all payments together), each part <= its payment's left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.money import Money


@dataclass(frozen=True)
class PaymentLeft:
    """One payment of the order, as a refund sees it."""

    payment_id: str
    left: Money
    """Captured and not yet refunded (below zero counts as nothing)."""
    taken_at: datetime
    """When it was recorded: the newest extra payment gives back first."""
    extra: bool = False
    """Not the order's own payment (an exchange's difference)."""


@dataclass(frozen=True)
class RefundPart:
    payment_id: str
    amount: Money


def refund_order(payments: Sequence[PaymentLeft]) -> list[PaymentLeft]:
    """The payments in the order a refund draws on them: extras newest first, then the order's own."""
    extras = sorted((p for p in payments if p.extra), key=lambda p: (p.taken_at, p.payment_id), reverse=True)
    own = sorted((p for p in payments if not p.extra), key=lambda p: (p.taken_at, p.payment_id))
    return extras + own


def refundable(payments: Sequence[PaymentLeft], currency: str) -> Money:
    """What may still go back through the payments together."""
    return Money(sum(max(0, p.left.amount_minor) for p in payments), currency)


def spread_refund(amount: Money, payments: Sequence[PaymentLeft]) -> list[RefundPart]:
    """`amount` (or as much of it as the payments hold) as one part per payment that gives back,
    drawn in refund_order; no part of zero."""
    if amount.amount_minor < 0:
        raise ValueError(f"a refund cannot be negative: {amount.format()}")
    wanted = amount.amount_minor
    parts: list[RefundPart] = []
    for payment in refund_order(payments):
        if wanted == 0:
            break
        if payment.left.currency != amount.currency:
            raise ValueError(
                f"payment {payment.payment_id} is in {payment.left.currency}, the refund in {amount.currency}"
            )
        take = min(wanted, max(0, payment.left.amount_minor))
        if take:
            parts.append(RefundPart(payment.payment_id, Money(take, amount.currency)))
            wanted -= take
    return parts
