"""How a marketplace's return ends at the marketplace: what we tell bol.com once the parcel was received
here and every unit given a disposition. Pure: the activity that calls bol asks this what to send.

bol.com settles the money (the customer paid bol; bol refunds and deducts it from the retailer's
payout), so the only thing the retailer decides is the return's `handlingResult` and how many units
came back (`quantityReturned`, 1..9999), per return item (one rmaId: one EAN of one order). Of the
results bol documents (Retailer API v10 `ReturnRequest`):

- RETURN_RECEIVED: the goods are back; bol refunds the customer. Ours whenever at least one unit
  arrived, **whatever its disposition**. A unit we scrap, refurbish or send to the supplier has moved
  in our ledger: it is no longer ours to send back to the customer, which is what
  RETURN_DOES_NOT_MEET_CONDITIONS obliges the retailer to do (bol then refunds nothing and the customer
  expects the item back). A damaged or defective unit is, besides, most often the very reason the
  customer sent it (bol's "Klacht over artikel"), and refusing that refund breaches the customer's
  right of withdrawal or warranty. So `sellable` decides our stock (domain.return_lifecycle), never
  the customer's refund.
- RETURN_DOES_NOT_MEET_CONDITIONS: a person's judgement (worn, incomplete, not our item) together with
  posting the goods back: made in bol's seller dashboard, not by this engine.
- Nothing received (the parcel never came, or came empty): nothing is sent. The return stays open at
  bol, so the customer is neither refunded for goods we never saw nor refused over a parcel still in
  transit; bol's own deadlines apply, and a person may handle it in the dashboard.
- EXCHANGE_PRODUCT, REPAIR_PRODUCT, CUSTOMER_KEEPS_PRODUCT_PAID, STILL_APPROVED: resolutions a person
  agrees with the customer (an exchange is the retailer shipping a new unit); not chosen here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.money import Money

MAX_QUANTITY = 9999
"""`ReturnRequest.quantityReturned`: 1..9999."""


class HandlingResult(StrEnum):
    """bol.com's `handlingResult` values (Retailer API v10)."""

    RETURN_RECEIVED = "RETURN_RECEIVED"
    EXCHANGE_PRODUCT = "EXCHANGE_PRODUCT"
    RETURN_DOES_NOT_MEET_CONDITIONS = "RETURN_DOES_NOT_MEET_CONDITIONS"
    REPAIR_PRODUCT = "REPAIR_PRODUCT"
    CUSTOMER_KEEPS_PRODUCT_PAID = "CUSTOMER_KEEPS_PRODUCT_PAID"
    STILL_APPROVED = "STILL_APPROVED"


@dataclass(frozen=True)
class Handling:
    """What to send for one return item: `PUT /retailer/returns/{rmaId}` with this body."""

    result: HandlingResult
    quantity: int

    def body(self) -> dict[str, object]:
        return {"handlingResult": self.result.value, "quantityReturned": self.quantity}


def _units(name: str, units: Mapping[str, int]) -> int:
    total = 0
    for sku, quantity in units.items():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError(f"{name} {sku}: {quantity!r} is not a whole number >= 0")
        total += quantity
    return total


def handling_for(received: Mapping[str, int], sellable: Mapping[str, int], short: Mapping[str, int]) -> Handling | None:
    """The handling of a return item whose goods were received (`received` per SKU, of which
    `sellable` went back on the shelf, `short` announced but not in the parcel); None when nothing
    came back and nothing is to be sent. ValueError for counts that cannot be (negative, or more
    sellable than received)."""
    came = _units("received", received)
    _units("sellable", sellable)
    _units("short", short)
    for sku, quantity in sellable.items():
        if quantity > received.get(sku, 0):
            raise ValueError(f"{quantity} of {sku} sellable, but only {received.get(sku, 0)} received")
    if came == 0:
        return None
    return Handling(HandlingResult.RETURN_RECEIVED, min(came, MAX_QUANTITY))


def already_handled(processing_results: object, handling: Handling) -> bool:
    """Whether bol's `processingResults` of a return item already hold this handling (the latest entry
    has our result): a repeated request (a retry after bol took the first) is then done, not an error."""
    if not isinstance(processing_results, list) or not processing_results:
        return False
    latest = processing_results[-1]
    return isinstance(latest, dict) and latest.get("handlingResult") == handling.result.value


@dataclass(frozen=True)
class ChannelRefund:
    """A refund the channel made itself (Shopify's admin: `refunds/create`): recorded here once, its
    units counted as returned so our own returns never refund them again, its money the channel's."""

    channel: str
    refund_id: str
    order_external_id: str
    units: Mapping[str, int]
    """Units refunded per SKU (no zero entries); empty for a refund of money only (shipping, a goodwill sum)."""
    amount: Money
    """What the channel paid back: its successful refund transactions, exact to the cent."""
    restock_types: Mapping[str, tuple[str, ...]]
    """Per SKU, the channel's own restock types of its lines ("return", "cancel", "no_restock")."""
    note: str = ""

    @property
    def return_id(self) -> str:
        """Its id among the order's returns: one per channel refund, which is what dedupes a redelivery."""
        return f"{self.channel}-refund-{self.refund_id}"

    def describe(self) -> str:
        what = ", ".join(f"{n} x {sku}" for sku, n in sorted(self.units.items())) or "no items"
        restocked = sorted({kind for kinds in self.restock_types.values() for kind in kinds if kind != "no_restock"})
        told = f"; restock in {self.channel}: {', '.join(restocked)} (our stock moves when the goods reach us)"
        return f"{self.return_id}: {what}, {self.amount.format()} refunded on {self.channel}" + (
            told if restocked else ""
        )
