"""Stock as staff read it: every record (filtered and paged), one SKU at every location, what each
channel's feed was last told, and the ledger figures behind reorder hints.

Read straight from the stock records and the ledger the write side keeps
(``persistence.guarded_writes.inventory``): nothing here changes stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from persistence.guarded_writes.inventory import StockRow
from persistence.models import ChannelStockLevel, StockLevel, StockMovement


def overview(
    session: Session,
    *,
    location_id: str | None = None,
    sku_prefix: str | None = None,
    below_safety: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StockRow], int]:
    """Stock records sorted by SKU then location, and how many match in all.

    ``sku_prefix`` matches case-sensitively on both databases (no LIKE: SQLite's ignores case).
    ``below_safety``: True keeps the records whose unreserved stock (on hand - reserved) is below
    their safety stock, False the others.
    """
    conditions: list[ColumnElement[bool]] = []
    if location_id is not None:
        conditions.append(StockLevel.location_id == location_id)
    if sku_prefix:
        conditions.append(func.substr(StockLevel.sku, 1, len(sku_prefix)) == sku_prefix)
    if below_safety is not None:
        below = StockLevel.on_hand - StockLevel.reserved < StockLevel.safety_stock
        conditions.append(below if below_safety else ~below)
    count = session.scalar(select(func.count()).select_from(StockLevel).where(*conditions)) or 0
    levels = session.scalars(
        select(StockLevel)
        .where(*conditions)
        .order_by(StockLevel.sku, StockLevel.location_id)
        .limit(limit)
        .offset(offset)
    )
    rows = [StockRow(s.location_id, s.sku, s.on_hand, s.reserved, s.safety_stock, s.held) for s in levels]
    return rows, int(count)


def stock_for_sku(session: Session, sku: str) -> list[StockRow]:
    levels = session.scalars(select(StockLevel).where(StockLevel.sku == sku).order_by(StockLevel.location_id))
    return [StockRow(s.location_id, s.sku, s.on_hand, s.reserved, s.safety_stock, s.held) for s in levels]


def held_at(session: Session, location_id: str) -> list[StockRow]:
    """The location's stock records holding returned units out of sale (refurbish), by SKU."""
    levels = session.scalars(
        select(StockLevel).where(StockLevel.location_id == location_id, StockLevel.held > 0).order_by(StockLevel.sku)
    )
    return [StockRow(s.location_id, s.sku, s.on_hand, s.reserved, s.safety_stock, s.held) for s in levels]


@dataclass(frozen=True)
class ChannelSent:
    quantity: int
    sent_at: datetime


def last_sent(session: Session, sku: str) -> dict[str, ChannelSent]:
    """What each channel's stock feed was last told for this SKU."""
    rows = session.scalars(
        select(ChannelStockLevel).where(ChannelStockLevel.sku == sku).order_by(ChannelStockLevel.channel)
    )
    return {row.channel: ChannelSent(row.quantity, row.sent_at) for row in rows}


def ledger(
    session: Session, sku: str, *, location_id: str | None, limit: int, offset: int
) -> tuple[list[StockMovement], int]:
    """The SKU's ledger rows (at one location, or all), newest first, with how many there are:
    what moved, why, for which order, and which staff member made a move by hand."""
    query = select(StockMovement).where(StockMovement.sku == sku)
    if location_id is not None:
        query = query.where(StockMovement.location_id == location_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(StockMovement.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def shipped_since(session: Session, sku: str, since: datetime) -> dict[str, int]:
    """Units of the SKU shipped per location since ``since``, from the ledger's shipment rows."""
    rows = session.execute(
        select(StockMovement.location_id, func.sum(StockMovement.on_hand_delta))
        .where(
            StockMovement.sku == sku,
            StockMovement.kind == "shipment",
            StockMovement.on_hand_delta < 0,
            StockMovement.created_at >= since,
        )
        .group_by(StockMovement.location_id)
    ).all()
    return {location_id: -int(total) for location_id, total in rows}
