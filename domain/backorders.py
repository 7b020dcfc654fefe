"""Which backordered orders a change in stock can serve, so only those are woken.

Waking an order costs it a reservation attempt and a dozen history events; waking one the stock
cannot serve only puts it back to sleep, and on a busy SKU that happens at every movement until
the order's history is full. So an order is woken when what its channel may sell covers what it
waits for (every unit for an order that waits for everything; at least one unit where the channel
ships what it has), in the order the orders started waiting, each taking its share of the stock so
the next one is woken only if enough is left for it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Waiting:
    """One order waiting for units of one SKU."""

    order_id: str
    channel: str
    sku: str
    quantity: int
    since: datetime


def orders_to_wake(
    waits: Iterable[Waiting],
    atp: Mapping[str, Mapping[str, int]],
    *,
    ships_what_it_has: frozenset[str] = frozenset(),
) -> list[tuple[str, str]]:
    """(order id, one SKU it waits for) of each order the stock can serve, longest-waiting first.

    `atp`: per SKU, what each channel may sell now. `ships_what_it_has`: channels whose orders
    ship part of what they wait for (partial policy "ship_available")."""
    by_order: dict[str, list[Waiting]] = {}
    for wait in sorted(waits, key=lambda w: (w.since, w.order_id, w.sku)):
        by_order.setdefault(wait.order_id, []).append(wait)
    taken: dict[str, int] = {}
    woken: list[tuple[str, str]] = []
    for order_id, wanted in by_order.items():
        left = {w.sku: atp.get(w.sku, {}).get(w.channel, 0) - taken.get(w.sku, 0) for w in wanted}
        if wanted[0].channel in ships_what_it_has:
            share = {w.sku: min(w.quantity, left[w.sku]) for w in wanted if left[w.sku] > 0}
        elif all(left[w.sku] >= w.quantity for w in wanted):
            share = {w.sku: w.quantity for w in wanted}
        else:
            share = {}
        if not share:
            continue
        for sku, units in share.items():
            taken[sku] = taken.get(sku, 0) + units
        woken.append((order_id, next(iter(share))))
    return woken
