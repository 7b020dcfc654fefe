"""Orders whose goods we do not ship: sold over a store counter, or fulfilled by the channel itself.

A counter sale (POS) has already left the shop with its customer when we hear of it, so nothing
can be reserved, picked or cancelled: the store's stock record only catches up. A channel-fulfilled
order (Amazon AFN, Bol.com FBB) ships from the channel's own stock: we record it for reporting and
follow the channel's word on it, and none of our stock moves.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.limits import MAX_COUNTER_SALE_QUANTITY
from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_CHANNEL
from domain.status import OrderStatus, cancel_refusal

COUNTER_SALE_REFUSAL = "sold at the counter: the goods left with the customer; request a return instead"


def cancel_refusal_for(fulfilled_by: str, status: OrderStatus, shipping_started: bool) -> str | None:
    """Why a cancel cannot be honoured for an order fulfilled this way, or None when it can.

    A channel-fulfilled order follows the channel: its cancel is honoured until the order is
    closed, even though our record already says SHIPPED (we never know when the channel's parcel
    left, and the channel's word is the truth about its own shipment).
    """
    if status is OrderStatus.CANCELLED:
        return cancel_refusal(status, shipping_started)
    if fulfilled_by == FULFILLED_AT_COUNTER:
        return COUNTER_SALE_REFUSAL
    if fulfilled_by == FULFILLED_BY_CHANNEL:
        return "the order is completed" if status is OrderStatus.COMPLETED else None
    return cancel_refusal(status, shipping_started)


COUNTER_SALE_LOCATION_KIND = "store"


def counter_sale_refusal(location_id: str, location_kind: str, lines: Mapping[str, int]) -> str | None:
    """Why this counter sale must not take stock off this location's record, or None when it may.

    Only a store has a counter, and a till sells what a customer carries out: a key that can post
    counter sales must not be able to write off a warehouse's stock, or all of a store's."""
    if location_kind != COUNTER_SALE_LOCATION_KIND:
        return f"{location_id} is a {location_kind}, not a store: only a store's counter sells over the counter"
    too_many = [f"{sku} x{units}" for sku, units in sorted(lines.items()) if units > MAX_COUNTER_SALE_QUANTITY]
    if too_many:
        return f"a counter sale takes at most {MAX_COUNTER_SALE_QUANTITY} units of a SKU, not {', '.join(too_many)}"
    return None


def counter_sale_detail(location_id: str) -> str:
    return f"sold at the counter at {location_id}"


def channel_fulfilment_detail(channel: str) -> str:
    return f"fulfilled by {channel}"


def shelf_shortfall(sold: Mapping[str, int], taken: Mapping[str, int]) -> dict[str, int]:
    """Units sold that the stock record did not hold: the shelf had them, so the record was wrong."""
    return {sku: units - taken.get(sku, 0) for sku, units in sorted(sold.items()) if units > taken.get(sku, 0)}


def count_the_shelf(location_id: str, sku: str, short: int, *, recorded: bool = True) -> str:
    """The note that sends a person to count a shelf whose record fell behind a counter sale."""
    if not recorded:
        return f"count the shelf at {location_id}: it had no stock record of {sku}, {short} sold"
    return f"count the shelf at {location_id}: the record was short by {short} of {sku}"
