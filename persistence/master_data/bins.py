"""Bins: where on a location's shelves a SKU lies (aisle-rack-shelf, as the floor names it). Only the
pick list reads it; it moves no stock, so it is set beside the stock record, not through the ledger."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from persistence.models import StockLevel


def set_bin(session: Session, location_id: str, sku: str, bin_: str | None) -> bool:
    """False when the location holds no stock record of the SKU (nothing to put a bin on)."""
    result = session.execute(
        update(StockLevel).where(StockLevel.location_id == location_id, StockLevel.sku == sku).values(bin=bin_),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))
