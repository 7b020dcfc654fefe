"""Staff stock operations: transfers between locations and safety stock.

Every change to on_hand or reserved goes through ``inventory``'s ledger helper, so the outbox hook
writes the touched SKU's available-to-promise in the same transaction. What staff read about stock
(the overview, what channels were last told, the ledger figures behind reorder hints) is the read
side's: ``persistence.read_model.stock_overview``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from persistence.guarded_writes.inventory import (
    InsufficientStock,
    StockError,
    StockRow,
    UnknownLocation,
    _ledger,
    put_on_shelf,
    stock_row,
)
from persistence.models import Location, StockLevel, utcnow

_REASON_LENGTH = 200  # StockMovement.reason
SAFETY_STOCK = "safety_stock"
"""The ledger kind of a safety stock change: it moves no units, it says who changed what."""


class SameLocation(StockError):
    pass


class NoStockRecord(StockError):
    pass


@dataclass(frozen=True)
class Transfer:
    source: StockRow
    destination: StockRow


def _require_location(session: Session, location_id: str) -> None:
    if session.get(Location, location_id) is None:
        raise UnknownLocation(f"unknown location {location_id!r}", location_id=location_id)


def transfer(
    session: Session,
    from_location_id: str,
    to_location_id: str,
    sku: str,
    quantity: int,
    *,
    reason: str,
    actor: str = "",
) -> Transfer:
    """Move ``quantity`` units of ``sku`` from one location to another in the caller's transaction.

    The source gives only what it could still promise (on hand - reserved - safety stock): reserved
    units and safety stock never move. One guarded UPDATE at the source, an upsert at the destination
    (creating its stock record if needed) and two ledger rows of kind "transfer". Rows are touched in
    location order so two opposite transfers cannot deadlock on PostgreSQL. On a refusal the caller
    rolls back (the destination may already have been written).
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"a transfer moves a whole number of units > 0, not {quantity!r}")
    if from_location_id == to_location_id:
        raise SameLocation(f"cannot transfer from {from_location_id!r} to itself", location_id=from_location_id)
    _require_location(session, from_location_id)
    _require_location(session, to_location_id)
    note = f"transfer {from_location_id} -> {to_location_id}: {reason}"[:_REASON_LENGTH]
    steps = sorted([(from_location_id, -quantity), (to_location_id, quantity)])
    for location_id, delta in steps:
        if delta < 0:
            _take(session, location_id, sku, quantity)
        else:
            put_on_shelf(session, location_id, sku, quantity)
        _ledger(session, location_id, sku, "transfer", delta, 0, reason=note, actor=actor)
    source = stock_row(session, from_location_id, sku)
    destination = stock_row(session, to_location_id, sku)
    assert source is not None and destination is not None
    return Transfer(source, destination)


def _take(session: Session, location_id: str, sku: str, quantity: int) -> None:
    now = utcnow()
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.location_id == location_id,
            StockLevel.sku == sku,
            StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock >= quantity,
        )
        .values(on_hand=StockLevel.on_hand - quantity, updated_at=now)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = stock_row(session, location_id, sku)
    if row is None:
        raise InsufficientStock(
            f"{location_id} holds no stock of {sku}: nothing to transfer",
            location_id=location_id,
            sku=sku,
            requested=quantity,
            on_hand=0,
            reserved=0,
            safety_stock=0,
            available=0,
        )
    raise InsufficientStock(
        f"{sku} at {location_id}: cannot transfer {quantity}, only {row.available} can move "
        f"({row.on_hand} on hand - {row.reserved} reserved - {row.safety_stock} safety stock)",
        location_id=location_id,
        sku=sku,
        requested=quantity,
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        available=row.available,
    )


def set_safety_stock(
    session: Session, location_id: str, sku: str, safety_stock: int, *, actor: str = ""
) -> tuple[StockRow, int]:
    """Set a location's safety stock for a SKU; returns the new row and the previous safety stock.

    It may exceed what is unreserved: available to promise then floors at 0. The SKU's ATP changes,
    so it is noted for the outbox like any other stock change, and the ledger keeps a row (kind
    safety_stock, no units moved) saying who changed it from what.
    """
    if isinstance(safety_stock, bool) or not isinstance(safety_stock, int) or safety_stock < 0:
        raise ValueError(f"safety stock must be a whole number >= 0, not {safety_stock!r}")
    _require_location(session, location_id)
    before = stock_row(session, location_id, sku)
    if before is None:
        raise NoStockRecord(
            f"{location_id} holds no stock record for {sku}: receive it there first",
            location_id=location_id,
            sku=sku,
        )
    session.execute(
        update(StockLevel)
        .where(StockLevel.location_id == location_id, StockLevel.sku == sku)
        .values(safety_stock=safety_stock, updated_at=utcnow())
    )
    note = f"safety stock {before.safety_stock} -> {safety_stock}"
    _ledger(session, location_id, sku, SAFETY_STOCK, 0, 0, reason=note, actor=actor)
    after = stock_row(session, location_id, sku)
    assert after is not None
    return after, before.safety_stock
