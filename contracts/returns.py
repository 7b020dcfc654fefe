"""Returns taken on an order (an update with a validator) and their refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity

from domain.money import Money
from domain.order import Order


@dataclass
class ReturnRequestLine:
    sku: str
    quantity: int


@dataclass
class ReturnRequest:
    lines: list[ReturnRequestLine]
    reason: str = ""
    requested_by: str = "support"
    restock: bool = True
    """False: the goods are not fit to sell again (damaged): refunded, not put back on the shelf."""


@dataclass
class AcceptReturnInput:
    order: Order
    return_id: str
    lines: dict[str, int]
    reason: str
    requested_by: str
    restock: bool
    window_closes_at: datetime | None
    at: datetime
    shipped: dict[str, int] | None = None
    """Units that left to the customer when no shipment records them (a counter sale); None: the shipments."""
    restock_at: str | None = None
    """Where the goods go back when no shipment says (the store of a counter sale)."""


@dataclass
class RefundReturnInput:
    order_id: str
    return_id: str
    amount: Money
    at: datetime


@dataclass
class ReturnAccepted:
    return_id: str
    status: str
    refund: Money


class Returns:
    """The return activities the order workflow calls (activities.returns implements them)."""

    @activity.defn
    def accept_return(self, data: AcceptReturnInput) -> ReturnAccepted:
        raise NotImplementedError

    @activity.defn
    def refund_return(self, data: RefundReturnInput) -> ReturnAccepted:
        raise NotImplementedError
