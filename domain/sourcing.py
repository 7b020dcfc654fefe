"""Choosing where an order ships from.

The spine ships an order from one location: the first, by priority then id, that holds every unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LocationStock:
    location_id: str
    priority: int
    available: Mapping[str, int]
    """Units free to reserve per SKU: on hand - reserved - safety stock."""


@dataclass(frozen=True)
class SourcingDecision:
    location_id: str | None
    reason: str


def choose_single_location(demand: Mapping[str, int], candidates: Sequence[LocationStock]) -> SourcingDecision:
    ranked = sorted(candidates, key=lambda c: (c.priority, c.location_id))
    skipped: list[str] = []
    for candidate in ranked:
        short = sorted(sku for sku, qty in demand.items() if candidate.available.get(sku, 0) < qty)
        if not short:
            note = f"{candidate.location_id}: first by priority with full stock"
            if skipped:
                note += "; skipped " + "; ".join(skipped)
            return SourcingDecision(candidate.location_id, note)
        skipped.append(f"{candidate.location_id} short of {', '.join(short)}")
    detail = "; ".join(skipped) if skipped else "no location stocks these SKUs"
    return SourcingDecision(None, f"no single location can ship everything ({detail})")
