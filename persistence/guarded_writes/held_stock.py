"""Held stock: returned units physically at a location that may not be sold until a person releases
them (sent to refurbishing, cleaned, repackaged, repaired).

They are counted in StockLevel.held, never in on_hand, so nothing that promises stock (sourcing,
reservations, available-to-promise to the channels) can see them: every such rule reads
on_hand - reserved - safety_stock. A release moves them in one guarded statement, either to on_hand
(sellable: the channels' feed follows through the stock outbox) or out of the building as a
write-off. Every move is a ledger row carrying held_delta, so held can be rebuilt like on_hand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from domain import limits
from persistence.guarded_writes.guarded_commit import batch
from persistence.guarded_writes.inventory import (
    StockError,
    StockRow,
    TooMuchStock,
    UnknownLocation,
    _insert_for,
    fits_with,
    stock_row,
)
from persistence.guarded_writes.stock_outbox import note_stock_change
from persistence.models import Location, StockLevel, StockMovement, StockWriteOff

HOLD = "refurbish"
"""Ledger kind: returned units into held stock."""
REFURBISHED = "refurbished"
"""Ledger kind: held units released to sellable stock."""
WRITE_OFF = "write_off"
"""Ledger kind: units written off (scrapped), from the returns desk or from held stock."""

SELLABLE = "sellable"
SCRAP = "scrap"
RELEASE_TO = (SELLABLE, SCRAP)
"""Where held units may go when a person releases them."""

_INSERT_HELD_MOVEMENT = (
    "INSERT INTO stock_movements (location_id, sku, kind, on_hand_delta, reserved_delta, held_delta, order_id, "
    "reason, actor, created_at) VALUES (%s, %s, %s, %s, 0, %s, %s, %s, %s, %s)"
)
_INSERT_MOVEMENT = insert(StockMovement)


class NotEnoughHeld(StockError):
    """A release of more held units than the location holds (or a race took them first)."""


def require_location(session: Session, location_id: str) -> None:
    if session.get(Location, location_id) is None:
        raise UnknownLocation(f"unknown location {location_id!r}", location_id=location_id)


def ledger_row(
    session: Session,
    location_id: str,
    sku: str,
    kind: str,
    *,
    at: datetime,
    on_hand: int = 0,
    held: int = 0,
    order_id: str | None = None,
    reason: str = "",
    actor: str = "",
) -> None:
    """A ledger row that may move held stock. The stock outbox hears of it only when on_hand moves:
    held units are no part of what any channel may sell."""
    if on_hand:
        note_stock_change(session, sku)
    reason, actor = reason[: limits.LEDGER_REASON], actor[: limits.EMAIL]
    pending = batch(session)
    if pending is not None:
        row = (location_id, sku, kind, on_hand, held, order_id, reason, actor, at)
        pending.inserts.append((_INSERT_HELD_MOVEMENT, row))
        return
    values = {"location_id": location_id, "sku": sku, "kind": kind, "on_hand_delta": on_hand, "reserved_delta": 0}
    values |= {"held_delta": held, "order_id": order_id, "reason": reason, "actor": actor, "created_at": at}
    session.connection().execute(_INSERT_MOVEMENT, values)


def hold(
    session: Session,
    location_id: str,
    sku: str,
    units: int,
    *,
    at: datetime,
    reason: str,
    order_id: str | None = None,
) -> None:
    """Add `units` to the SKU's held count at the location, creating its stock record when the
    location never held the SKU; one upsert, so two receipts at once both count."""
    _whole(units)
    require_location(session, location_id)
    statement = _insert_for(session)(StockLevel).values(
        location_id=location_id, sku=sku, on_hand=0, reserved=0, safety_stock=0, held=units, updated_at=at
    )
    result = session.execute(
        statement.on_conflict_do_update(
            index_elements=[StockLevel.location_id, StockLevel.sku],
            set_={"held": StockLevel.held + units, "updated_at": at},
            where=StockLevel.held <= limits.INTEGER_MAX - units,
        ).returning(StockLevel.held)
    )
    if result.first() is None:
        raise TooMuchStock(f"{sku} at {location_id}: holding {units} more would pass what a stock record counts")
    ledger_row(session, location_id, sku, HOLD, at=at, held=units, order_id=order_id, reason=reason)


def release_to_sellable(
    session: Session, location_id: str, sku: str, units: int, *, at: datetime, reason: str, actor: str = ""
) -> StockRow:
    """Held units become sellable: held down, on_hand up, in one guarded UPDATE that refuses when
    fewer are held (two people releasing the last unit at once: one wins, held never below 0)."""
    _whole(units)
    require_location(session, location_id)
    _take_held(session, location_id, sku, units, at, to_shelf=True)
    ledger_row(session, location_id, sku, REFURBISHED, at=at, on_hand=units, held=-units, reason=reason, actor=actor)
    return _row(session, location_id, sku)


def scrap_held(
    session: Session, location_id: str, sku: str, units: int, *, at: datetime, reason: str, actor: str = ""
) -> StockRow:
    """Held units that cannot be made sellable are written off: held down (guarded as a release)
    and a write-off record with the reason, which the defects per SKU count."""
    _whole(units)
    if not reason.strip():
        raise ValueError("a write-off needs a reason")
    require_location(session, location_id)
    _take_held(session, location_id, sku, units, at, to_shelf=False)
    record_write_off(session, location_id, sku, units, reason=reason, source="held", at=at, held=-units, actor=actor)
    return _row(session, location_id, sku)


def record_write_off(
    session: Session,
    location_id: str,
    sku: str,
    units: int,
    *,
    reason: str,
    source: str,
    at: datetime,
    held: int = 0,
    order_id: str | None = None,
    return_id: str | None = None,
    actor: str = "",
) -> None:
    """The write-off record (what the defects KPI counts) and its ledger row. `held`: the held
    units it takes (negative) when the units were held; 0 when they never entered stock."""
    session.add(
        StockWriteOff(
            location_id=location_id,
            sku=sku,
            quantity=units,
            reason=reason.strip()[: limits.LEDGER_REASON],
            source=source,
            order_id=order_id,
            return_id=return_id,
            actor=actor[: limits.EMAIL],
            written_off_at=at,
        )
    )
    note = f"{return_id}: {reason}" if return_id else reason
    ledger_row(
        session, location_id, sku, WRITE_OFF, at=at, held=held, order_id=order_id, reason=note.strip(), actor=actor
    )


def _take_held(session: Session, location_id: str, sku: str, units: int, at: datetime, *, to_shelf: bool) -> None:
    """Held down by `units` (and on_hand up by as many `to_shelf`) when that many are held."""
    values: dict[str, object] = {"held": StockLevel.held - units, "updated_at": at}
    conditions = [StockLevel.location_id == location_id, StockLevel.sku == sku, StockLevel.held >= units]
    if to_shelf:
        values["on_hand"] = StockLevel.on_hand + units
        conditions.append(fits_with(units))
    result = session.execute(
        update(StockLevel).where(*conditions).values(**values), execution_options={"synchronize_session": False}
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = stock_row(session, location_id, sku)
    held = row.held if row is not None else 0
    if to_shelf and row is not None and row.on_hand > limits.INTEGER_MAX - units:
        raise TooMuchStock(f"{sku} at {location_id}: releasing {units} would pass what a stock record counts")
    raise NotEnoughHeld(
        f"{sku} at {location_id}: cannot release {units}, {held} held", location_id=location_id, sku=sku, held=held
    )


def _row(session: Session, location_id: str, sku: str) -> StockRow:
    row = stock_row(session, location_id, sku)
    assert row is not None
    return row


def _whole(units: int) -> None:
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"a whole number of units > 0, not {units!r}")
