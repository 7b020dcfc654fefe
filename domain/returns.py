"""Returns: what a customer may still send back, and what it is worth, exactly.

Pure rules, no I/O: the workflow checks a return request against what left our locations and
what came back already; the refund is the share of what the customer paid for those units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.allocation import refund_for_units
from domain.money import Money
from domain.order import Order


class ReturnStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    """Taken (and restocked where fit to sell); the refund follows."""
    REFUNDED = "REFUNDED"
    """Refunded through our payment provider."""
    REFUND_ON_CHANNEL = "REFUND_ON_CHANNEL"
    """The channel took the money, so the refund is the channel's to make."""
    CREDITED = "CREDITED"
    """Settled as store credit only (a store-credit resolution, or an order paid all with credit)."""


class ReturnReason(StrEnum):
    """Why the customer sent it back, as support records it: the first words of a return's reason,
    so returns can be counted by reason; a note may follow (`reason_text`)."""

    DAMAGED = "damaged"
    WRONG_ITEM = "wrong item"
    NOT_AS_DESCRIBED = "not as described"
    DOES_NOT_FIT = "does not fit"
    CHANGED_MIND = "changed mind"
    ARRIVED_LATE = "arrived late"
    OTHER = "other"


def reason_text(reason: ReturnReason, note: str = "") -> str:
    """The reason as stored on the return: "damaged", or "damaged: the handle came off"."""
    note = note.strip()
    return f"{reason.value}: {note}" if note else reason.value


_REASONS = {reason.value: reason for reason in ReturnReason}


def reason_of(text: str) -> ReturnReason:
    """The reason a stored return's text starts with (OTHER for text written any other way)."""
    return _REASONS.get(text.split(":", 1)[0].strip().lower(), ReturnReason.OTHER)


class ReturnRefusalKind(StrEnum):
    WINDOW_CLOSED = "window_closed"
    """The returns window is over (or the order was never delivered): HTTP 409."""
    NOT_SHIPPED = "not_shipped"
    """The SKU did not leave to the customer (never ordered, not shipped yet, fulfilled elsewhere): HTTP 409."""
    TOO_MANY = "too_many"
    """More units than shipped and not yet returned: HTTP 422."""
    INVALID = "invalid"
    """No lines, a quantity below one, or a repeated SKU: HTTP 422."""


class ReturnRefused(Exception):
    def __init__(self, kind: ReturnRefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: int


def check_return(
    lines: tuple[ReturnLine, ...] | list[ReturnLine],
    *,
    shipped: Mapping[str, int],
    returned: Mapping[str, int],
    window_closes_at: datetime | None,
    now: datetime,
) -> dict[str, int]:
    """The units to take back per SKU, or ReturnRefused saying why not. `shipped`: units that left
    to the customer per SKU; `returned`: units already accepted back; `window_closes_at`: None
    while nothing was delivered."""
    if not lines:
        raise ReturnRefused(ReturnRefusalKind.INVALID, "a return needs at least one line")
    wanted: dict[str, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise ReturnRefused(ReturnRefusalKind.INVALID, f"quantity of {line.sku} must be at least 1")
        if line.sku in wanted:
            raise ReturnRefused(ReturnRefusalKind.INVALID, f"{line.sku} appears twice: one line per SKU")
        wanted[line.sku] = line.quantity
    if window_closes_at is None:
        raise ReturnRefused(ReturnRefusalKind.NOT_SHIPPED, "nothing of this order was shipped to the customer yet")
    if now >= window_closes_at:
        raise ReturnRefused(
            ReturnRefusalKind.WINDOW_CLOSED, f"the returns window closed at {window_closes_at.isoformat()}"
        )
    for sku, quantity in wanted.items():
        left = shipped.get(sku, 0) - returned.get(sku, 0)
        if shipped.get(sku, 0) == 0:
            raise ReturnRefused(ReturnRefusalKind.NOT_SHIPPED, f"{sku} was not shipped on this order")
        if quantity > left:
            raise ReturnRefused(
                ReturnRefusalKind.TOO_MANY,
                f"{quantity} of {sku} asked back, but only {left} shipped and not yet returned",
            )
    return wanted


def refund_for(order: Order, returned_before: Mapping[str, int], returning: Mapping[str, int]) -> Money:
    """What the customer paid for `returning` units, given `returned_before` were refunded already
    (domain.allocation: the same share of the total their capture took, so parts add up to the
    cent). Shipping and other charges are not refunded here (a person may, on the channel or in the
    payment provider)."""
    return refund_for_units(order, returned_before, returning)
