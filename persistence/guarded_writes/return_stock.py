"""What a return's dispositions do to stock at the location that received the parcel, booked in the
caller's transaction (the return workflow's idempotent step makes it happen once).

Restocked units go on hand through the same guarded write as any receipt (ledger kind "return"),
so the stock outbox carries the new available-to-promise to every channel. Refurbished units are
held out of sale (persistence.guarded_writes.held_stock) until a person releases them. Scrapped
units are a write-off with its reason (the defects per SKU). Units for the supplier are recorded as
sent back. Neither of the last two ever becomes sellable here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain import limits
from domain.return_lifecycle import StockEffects
from persistence.guarded_writes.held_stock import hold, ledger_row, record_write_off, require_location
from persistence.guarded_writes.inventory import adjust_on_hand
from persistence.models import SupplierReturn

RETURN = "return"
"""Ledger kind: returned units back in sellable stock (as the one-step return has always booked)."""
TO_SUPPLIER = "to_supplier"
"""Ledger kind: returned units sent on to the supplier (no stock moves here: they never entered it)."""


def book_dispositions(
    session: Session, *, order_id: str, return_id: str, location_id: str, effects: StockEffects, at: datetime
) -> list[str]:
    """Book `effects` at `location_id` and say what was done, one phrase per SKU and fate, for the
    order's timeline ("2 x SKU-1 back on the shelf at DC-1"). Does not commit.

    SKUs are booked in one sorted order, as every stock write does, so two returns received at the
    same location at once cannot deadlock on PostgreSQL. Raises UnknownLocation for a location we
    do not know (unless there is nothing to book), TooMuchStock past what a stock record counts;
    the caller rolls back."""
    _check(effects)
    if not effects.units():
        return []  # an empty parcel moves nothing, wherever it was opened
    require_location(session, location_id)
    reason = return_id[: limits.LEDGER_REASON]  # the ledger's reason names the return
    done: list[str] = []
    for sku in sorted({*effects.sellable, *effects.held}):
        if units := effects.sellable.get(sku, 0):
            adjust_on_hand(session, location_id, sku, units, kind=RETURN, reason=reason, order_id=order_id)
            done.append(f"{units} x {sku} back on the shelf at {location_id}")
        if units := effects.held.get(sku, 0):
            hold(session, location_id, sku, units, at=at, reason=reason, order_id=order_id)
            done.append(f"{units} x {sku} held for refurbishing at {location_id}")
    for write_off in effects.written_off:
        record_write_off(
            session,
            location_id,
            write_off.sku,
            write_off.quantity,
            reason=write_off.reason,
            source="return",
            at=at,
            order_id=order_id,
            return_id=return_id,
        )
        done.append(f"{write_off.quantity} x {write_off.sku} written off at {location_id} ({write_off.reason})")
    for sku, units in sorted(effects.to_supplier.items()):
        session.add(
            SupplierReturn(
                location_id=location_id, sku=sku, quantity=units, order_id=order_id, return_id=return_id, sent_at=at
            )
        )
        ledger_row(session, location_id, sku, TO_SUPPLIER, at=at, order_id=order_id, reason=reason)
        done.append(f"{units} x {sku} sent back to the supplier from {location_id}")
    session.flush()
    return done


def _check(effects: StockEffects) -> None:
    """Quantities as domain.return_lifecycle.check_dispositions gives them: whole numbers ≥ 1."""
    quantities = [*effects.sellable.values(), *effects.held.values(), *effects.to_supplier.values()]
    quantities += [write_off.quantity for write_off in effects.written_off]
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in quantities):
        raise ValueError(f"stock effects hold a quantity that is not a whole number ≥ 1: {effects}")
    if any(not write_off.reason.strip() for write_off in effects.written_off):
        raise ValueError("a write-off needs a reason")
