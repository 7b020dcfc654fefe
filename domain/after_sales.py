"""After-sales numbers from plain values (no I/O): how much of what shipped comes back, and why.

A return counts the units that are coming or came back: what the customer announced, less what a
received parcel was short of (units that never came are not a return). Its reason is the head of
the reason text (domain.returns.reason_of), so "damaged: handle came off" and "Damaged" count as
one reason. Rates are units returned over units shipped, out of the same orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.return_lifecycle import ReturnState
from domain.returns import reason_of

TOP_REASONS = 3
"""Reasons shown per SKU or channel: enough to say what goes wrong, few enough to read."""

NOT_RETURNED = frozenset({ReturnState.REJECTED.value, ReturnState.CANCELLED.value, ReturnState.EXPIRED.value})
"""States of a return whose goods never came back and never will: they count nowhere."""


@dataclass(frozen=True)
class ReturnedGoods:
    """One return as the numbers see it."""

    channel: str
    lines: Mapping[str, int]
    """Units announced per SKU."""
    reason: str
    short: Mapping[str, int] | None = None
    """Units the received parcel was short of, per SKU (None before it came)."""


@dataclass
class Tally:
    """Returns, units and units per reason, for one SKU or one channel."""

    returns: int = 0
    units: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, units: int, reason: str) -> None:
        self.returns += 1
        self.units += units
        self.reasons[reason] = self.reasons.get(reason, 0) + units

    def top_reasons(self, limit: int = TOP_REASONS) -> dict[str, int]:
        return top_reasons(self.reasons, limit)


def returned_units(goods: ReturnedGoods) -> dict[str, int]:
    """Units per SKU that come back: announced less short, never below zero; SKUs with none left out."""
    short = goods.short or {}
    units = {sku: quantity - short.get(sku, 0) for sku, quantity in goods.lines.items()}
    return {sku: n for sku, n in units.items() if n > 0}


def top_reasons(counts: Mapping[str, int], limit: int = TOP_REASONS) -> dict[str, int]:
    """The `limit` reasons with the most units, most first (then by name); reasons with none left out."""
    ranked = sorted(((reason, n) for reason, n in counts.items() if n > 0), key=lambda r: (-r[1], r[0]))
    return dict(ranked[:limit])


def tally_returns(returns: Iterable[ReturnedGoods]) -> tuple[dict[str, Tally], dict[str, Tally]]:
    """Per SKU and per channel: the returns with units coming back, their units, units per reason."""
    by_sku: dict[str, Tally] = {}
    by_channel: dict[str, Tally] = {}
    for goods in returns:
        units = returned_units(goods)
        if not units:
            continue
        reason = reason_of(goods.reason).value
        for sku, n in units.items():
            by_sku.setdefault(sku, Tally()).add(n, reason)
        by_channel.setdefault(goods.channel, Tally()).add(sum(units.values()), reason)
    return by_sku, by_channel


def return_rate(returned: int, shipped: int) -> float | None:
    """Units returned over units shipped (0.125 for one in eight), to four places; None when nothing shipped."""
    return round(returned / shipped, 4) if shipped > 0 else None
