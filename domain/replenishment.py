"""Reorder hints ("voorraadprognoses"): sales velocity, days of cover and a reorder point per SKU and
location, from what the ledger says was shipped over a window. Pure rules, no I/O.

Quantities are in on-hand terms, like a location's safety stock:

- ``free_stock`` is on hand minus reserved: the units on the shelf not yet promised to an order;
- the location's ``safety_stock`` is never sold (reservations leave it alone), so what can still be
  sold is ``free_stock - safety_stock`` (floored at 0: "available");
- the reorder point is the demand expected during the lead time plus the safety stock, rounded up;
  reorder when the free stock is at or below it (which is the same as: what can still be sold would
  not last the lead time) and there is something to order;
- the suggested quantity tops the free stock up to the demand over the lead time plus ``cover_days``,
  plus the safety stock.

Velocity is kept as an exact fraction so that rounding up never turns 10/3 x 3 into 11.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class ReorderHint:
    shipped_in_window: int
    velocity_per_day: Fraction
    days_of_cover: Fraction | None
    """What can still be sold divided by the velocity; None when nothing was shipped in the window."""
    reorder_point: int
    reorder_now: bool
    suggested_quantity: int


def _whole(name: str, value: int, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, not {value!r}")


def velocity(shipped: int, window_days: int) -> Fraction:
    """Units shipped per day over the window."""
    _whole("shipped", shipped, minimum=0)
    _whole("window_days", window_days, minimum=1)
    return Fraction(shipped, window_days)


def days_of_cover(available: int, per_day: Fraction) -> Fraction | None:
    """How many days what can still be sold lasts at this velocity; None when nothing sells."""
    if per_day <= 0:
        return None
    return Fraction(max(available, 0)) / per_day


def reorder_point(per_day: Fraction, lead_time_days: int, safety_stock: int) -> int:
    """Demand over the lead time plus the safety stock, rounded up to a whole unit."""
    _whole("lead_time_days", lead_time_days, minimum=0)
    _whole("safety_stock", safety_stock, minimum=0)
    return math.ceil(per_day * lead_time_days) + safety_stock


def order_up_to(per_day: Fraction, lead_time_days: int, cover_days: int, safety_stock: int) -> int:
    """The free stock to aim for: demand over the lead time and then ``cover_days``, plus safety stock."""
    _whole("cover_days", cover_days, minimum=1)
    return reorder_point(per_day, lead_time_days + cover_days, safety_stock)


def reorder_hint(
    *,
    shipped: int,
    window_days: int,
    free_stock: int,
    safety_stock: int,
    lead_time_days: int,
    cover_days: int,
    available: int | None = None,
) -> ReorderHint:
    """The reorder hint for one SKU at one location, or summed over several locations; then pass
    ``available`` (the sum of each location's available) since one location's surplus safety stock
    does not make another's stock unsellable."""
    _whole("free_stock", free_stock, minimum=0)
    sellable = free_stock - safety_stock if available is None else available
    per_day = velocity(shipped, window_days)
    point = reorder_point(per_day, lead_time_days, safety_stock)
    target = order_up_to(per_day, lead_time_days, cover_days, safety_stock)
    suggested = max(target - free_stock, 0) if free_stock <= point else 0
    return ReorderHint(
        shipped_in_window=shipped,
        velocity_per_day=per_day,
        days_of_cover=days_of_cover(sellable, per_day),
        reorder_point=point,
        reorder_now=suggested > 0,
        suggested_quantity=suggested,
    )
