"""Returns taken on an order (an update with a validator) and their refunds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity

from domain.money import Money
from domain.order import Order


@dataclass
class ReturnRequestLine:
    sku: str
    quantity: int


@dataclass
class ReplacementLine:
    """What an exchange sends instead: a SKU, how many, and its price per unit (None: what the
    customer paid per unit for the same SKU on this order; required for any other SKU)."""

    sku: str
    quantity: int
    unit_price: Money | None = None


@dataclass
class ReturnRequest:
    lines: list[ReturnRequestLine]
    reason: str = ""
    requested_by: str = "support"
    restock: bool = True
    """False: the goods are not fit to sell again (damaged): refunded, not put back on the shelf."""
    received: bool = False
    """The goods are here already (a counter return): received in full, disposed of by `restock`
    and resolved at once. False: an RMA is issued and the return waits for its parcel."""
    location_id: str | None = None
    """Where goods already here are received; None: where they were shipped from."""
    source: str = "support"
    """Who asks: "support", "customer" (self-service) or the channel's name (its own return)."""
    external_rma: str | None = None
    """The channel's return id, for a return the channel sent: it makes the request idempotent."""
    resolution: str = "refund"
    """How it is settled (domain.return_lifecycle.Resolution): "refund", "store_credit" (not for a
    marketplace's order) or "exchange" (with `replacement`)."""
    replacement: list[ReplacementLine] = field(default_factory=list)
    """An exchange's replacement lines (priced by domain.exchanges.price_replacement)."""


def replacement_of(request: ReturnRequest) -> list[tuple[str, int, Money | None]]:
    """The request's replacement lines as domain.exchanges.price_replacement takes them."""
    return [(line.sku, line.quantity, line.unit_price) for line in request.replacement]


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
    on_channel: bool = False
    """The channel settles it (a return the channel sent us): noted, never refunded by us."""
    as_credit: bool = False
    """Resolved as store credit: the whole amount is issued as credit (reason return) to the order's
    customer at the order's shop, nothing goes through the gateway."""
    part: str = ""
    """A further refund of the same return, once each (an exchange's replacement units given back
    after its difference was refunded): its own key, added to what the return gave back; empty:
    the return's one refund."""


@dataclass
class ReturnAccepted:
    return_id: str
    status: str
    """REQUESTED or AWAITING_APPROVAL while the return waits for its parcel; REFUNDED or
    REFUND_ON_CHANNEL once settled (a one-step return, or goods that were here already)."""
    refund: Money
    """Everything given back: through the gateway (or left to the channel) plus `credited`."""
    rma: str = ""
    credited: Money | None = None
    """Of `refund`, what went back as store credit (a store-credit resolution, or the part of an
    order paid with credit); None: none."""


class Returns:
    """The return activities the order workflow calls (activities.returns implements them)."""

    @activity.defn
    def accept_return(self, data: AcceptReturnInput) -> ReturnAccepted:
        raise NotImplementedError

    @activity.defn
    def refund_return(self, data: RefundReturnInput) -> ReturnAccepted:
        raise NotImplementedError
