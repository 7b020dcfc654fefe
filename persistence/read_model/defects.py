"""Defects per SKU: the units written off (scrapped at the returns desk, or after refurbishing
failed) in a window, read from the write-off records (persistence.models.StockWriteOff)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from persistence.models import OrderRecord, StockWriteOff

TOP_REASONS = 3
"""Reasons shown per SKU: enough to say what goes wrong, few enough to read."""


@dataclass(frozen=True)
class SkuDefects:
    sku: str
    units: int
    """Units written off in the window."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Units per reason, most first (at most TOP_REASONS)."""


def defects_per_sku(
    session: Session, since: datetime, until: datetime, *, channel: str | None = None, limit: int = 10
) -> list[SkuDefects]:
    """The `limit` SKUs with the most units written off in [since, until), most first (then by SKU).

    With a `channel`, only write-offs of that channel's orders count: a write-off of refurbished
    stock no longer knows the order its units came back on, so it counts only without one."""
    conditions: list[ColumnElement[bool]] = [
        StockWriteOff.written_off_at >= since,
        StockWriteOff.written_off_at < until,
    ]
    if channel:
        conditions.append(
            StockWriteOff.order_id.in_(select(OrderRecord.order_id).where(OrderRecord.channel == channel))
        )
    units = func.sum(StockWriteOff.quantity)
    top = session.execute(
        select(StockWriteOff.sku, units)
        .where(*conditions)
        .group_by(StockWriteOff.sku)
        .order_by(units.desc(), StockWriteOff.sku)
        .limit(limit)
    ).all()
    if not top:
        return []
    skus = [sku for sku, _ in top]
    by_reason: dict[str, list[tuple[str, int]]] = {}
    for sku, reason, n in session.execute(
        select(StockWriteOff.sku, StockWriteOff.reason, units)
        .where(*conditions, StockWriteOff.sku.in_(skus))
        .group_by(StockWriteOff.sku, StockWriteOff.reason)
    ):
        by_reason.setdefault(sku, []).append((reason, int(n)))
    return [
        SkuDefects(sku, int(n), dict(sorted(by_reason.get(sku, []), key=lambda r: (-r[1], r[0]))[:TOP_REASONS]))
        for sku, n in top
    ]
