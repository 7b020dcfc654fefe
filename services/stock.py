"""Stock moves staff make (receipts, adjustments, transfers, safety stock) and what they read about
stock (the overview, one SKU everywhere with what each channel may sell, reorder hints).

Every move is one guarded statement with its ledger row (persistence.guarded_writes.inventory) in
a unit of work of its own: a move the stock cannot allow leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.channels import available_to_promise
from domain.replenishment import ReorderHint, reorder_hint
from persistence.conflicts import LockCycle
from persistence.guarded_writes.held_stock import RELEASE_TO, SCRAP, NotEnoughHeld
from persistence.guarded_writes.inventory import (
    BelowReserved,
    InsufficientStock,
    StockRow,
    TooMuchStock,
    UnknownLocation,
)
from persistence.guarded_writes.stock_ops import NoStockRecord, SameLocation, Transfer
from persistence.models import StockMovement, utcnow
from persistence.read_model.stock_overview import ChannelSent
from services.errors import Conflict, NotFound, Unavailable, Unprocessable
from services.repositories import ChannelRepository, StockRepository
from services.unit_of_work import UnitOfWorkFactory

_NO_STOCK = "no location holds a stock record for {sku}"
TRANSFER_ATTEMPTS = 3


@dataclass(frozen=True)
class SafetyStockChange:
    row: StockRow
    previous: int
    warning: str | None
    """Set when the safety stock is more than the unreserved units (available floors at 0)."""


@dataclass(frozen=True)
class StockView:
    """One SKU at every location, what each channel may sell of it and what its feed was last told."""

    sku: str
    rows: list[StockRow]
    channels: dict[str, int]
    last_sent: dict[str, ChannelSent]

    @property
    def available(self) -> int:
        return sum(row.available for row in self.rows)

    @property
    def on_hand(self) -> int:
        return sum(row.on_hand for row in self.rows)

    @property
    def reserved(self) -> int:
        return sum(row.reserved for row in self.rows)

    @property
    def held(self) -> int:
        return sum(row.held for row in self.rows)


@dataclass(frozen=True)
class StockFigures:
    """A reorder hint beside the stock it was worked out from."""

    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    shipped_in_window: int
    velocity_per_day: float
    days_of_cover: float | None
    reorder_point: int
    reorder_now: bool
    suggested_quantity: int


@dataclass(frozen=True)
class Forecast:
    sku: str
    since: datetime
    locations: dict[str, StockFigures]
    total: StockFigures


@contextmanager
def _refusals() -> Iterator[None]:
    """Why a move cannot be: Unprocessable for a reference that does not hold, Conflict with the
    numbers when the stock cannot allow it."""
    try:
        yield
    except (UnknownLocation, SameLocation, TooMuchStock) as exc:
        raise Unprocessable(str(exc)) from None
    except (BelowReserved, InsufficientStock) as exc:
        raise Conflict(str(exc), **exc.numbers) from None


class Stock:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def receive(
        self, location_id: str, sku: str, quantity: int, *, kind: str, reason: str, reference: str, by: str = ""
    ) -> StockRow:
        """Goods in: from a supplier (kind receipt) or a customer (kind return). `by`, here and on
        every staff move: who made it (their label), kept on the ledger row."""
        note = f"{reason} (ref {reference})" if reference else reason
        return self._change(location_id, sku, quantity, kind=kind, reason=note, by=by)

    def adjust(self, location_id: str, sku: str, delta: int, *, reason: str, by: str = "") -> StockRow:
        """A count found more (a receipt) or fewer (an adjustment) than the record says."""
        kind = "receipt" if delta > 0 else "adjustment"
        return self._change(location_id, sku, delta, kind=kind, reason=reason, by=by)

    def transfer(
        self, from_location_id: str, to_location_id: str, sku: str, quantity: int, *, reason: str, by: str = ""
    ) -> Transfer:
        """Unavailable when it kept colliding: PostgreSQL broke a lock cycle with a reservation
        touching the same two locations in the other order, each time with nothing written."""
        for _attempt in range(TRANSFER_ATTEMPTS):
            try:
                with self._units() as uow, _refusals():
                    moved = uow.stock.transfer(from_location_id, to_location_id, sku, quantity, reason=reason, actor=by)
                    uow.commit()
                    return moved
            except LockCycle:
                continue
        raise Unavailable("the transfer kept colliding with concurrent stock changes; retry", retry_after=1)

    def release_held(
        self, location_id: str, sku: str, quantity: int, *, to: str, reason: str, by: str = ""
    ) -> StockRow:
        """Held (refurbished) units released by a person: to sellable stock, where the channels' feed
        and any waiting backorder follow, or to scrap, a write-off with its reason. Conflict with the
        units held when fewer are held than asked (another release may have taken them)."""
        if to not in RELEASE_TO:
            raise Unprocessable(f"to must be one of {', '.join(RELEASE_TO)}, not {to!r}", refusal="invalid")
        if to == SCRAP and not reason.strip():
            raise Unprocessable("a write-off needs a reason", refusal="reason_required")
        reason = reason.strip() or "released from refurbishing"
        with self._units() as uow:
            try:
                row = uow.stock.release_held(location_id, sku, quantity, to=to, reason=reason, actor=by, at=utcnow())
            except (UnknownLocation, TooMuchStock) as exc:
                raise Unprocessable(str(exc), refusal="invalid") from None
            except NotEnoughHeld as exc:
                raise Conflict(str(exc), refusal="not_enough_held", **exc.numbers) from None
            uow.commit()
        return row

    def set_safety_stock(self, location_id: str, sku: str, safety_stock: int, *, by: str = "") -> SafetyStockChange:
        with self._units() as uow:
            try:
                row, previous = uow.stock.set_safety_stock(location_id, sku, safety_stock, actor=by)
            except (UnknownLocation, NoStockRecord) as exc:
                raise NotFound(str(exc)) from None
            uow.commit()
        unreserved = row.on_hand - row.reserved
        warning = None
        if row.safety_stock > unreserved:
            warning = (
                f"safety stock {row.safety_stock} is more than the {unreserved} unreserved units "
                f"({row.on_hand} on hand - {row.reserved} reserved): available at {location_id} is 0 "
                "(available to promise never goes below 0)"
            )
        return SafetyStockChange(row, previous, warning)

    def overview(
        self, *, location_id: str | None, sku_prefix: str | None, below_safety: bool | None, limit: int, offset: int
    ) -> tuple[list[StockRow], int]:
        """Stock records by SKU then location; Unprocessable for a location we do not know."""
        with self._units(read_only=True) as uow:
            if location_id is not None and uow.locations.get(location_id) is None:
                raise Unprocessable(f"unknown location {location_id!r}")
            return uow.stock.page(
                location_id=location_id, sku_prefix=sku_prefix, below_safety=below_safety, limit=limit, offset=offset
            )

    def held_at(self, location_id: str) -> list[StockRow]:
        """What the location holds for refurbishing, waiting for a person to release it."""
        with self._units(read_only=True) as uow:
            return uow.stock.held_at(location_id)

    def view(self, sku: str) -> StockView:
        with self._units(read_only=True) as uow:
            view = stock_view(uow.stock, uow.channels, sku)
        if view is None:
            raise NotFound(_NO_STOCK.format(sku=sku))
        return view

    def ledger(self, sku: str, *, location_id: str | None, limit: int, offset: int) -> tuple[list[StockMovement], int]:
        """The SKU's stock moves, newest first: what, why, for which order, and who (staff moves)."""
        with self._units(read_only=True) as uow:
            return uow.stock.ledger(sku, location_id=location_id, limit=limit, offset=offset)

    def forecast(self, sku: str, *, window_days: int, lead_time_days: int, cover_days: int) -> Forecast:
        """Velocity from the ledger's shipments in the window, per location and over all of them."""
        since = utcnow() - timedelta(days=window_days)
        with self._units(read_only=True) as uow:
            rows = uow.stock.for_sku(sku)
            if not rows:
                raise NotFound(_NO_STOCK.format(sku=sku))
            shipped = uow.stock.shipped_since(sku, since)
        horizon = _Horizon(window_days, lead_time_days, cover_days)
        locations = {row.location_id: horizon.figures(row, shipped.get(row.location_id, 0)) for row in rows}
        together = StockRow(
            "",
            sku,
            sum(r.on_hand for r in rows),
            sum(r.reserved for r in rows),
            sum(r.safety_stock for r in rows),
        )
        total = horizon.figures(together, sum(shipped.values()), available=sum(r.available for r in rows))
        return Forecast(sku, since, locations, total)

    def _change(self, location_id: str, sku: str, delta: int, *, kind: str, reason: str, by: str) -> StockRow:
        with self._units() as uow, _refusals():
            row = uow.stock.change_on_hand(location_id, sku, delta, kind=kind, reason=reason, actor=by)
            uow.commit()
        return row


def stock_view(stock: StockRepository, channels: ChannelRepository, sku: str) -> StockView | None:
    rows = stock.for_sku(sku)
    if not rows:
        return None
    atp = available_to_promise({row.location_id: row.available for row in rows}, channels.policies())
    return StockView(sku, rows, atp, stock.last_sent(sku))


@dataclass(frozen=True)
class _Horizon:
    window_days: int
    lead_time_days: int
    cover_days: int

    def figures(self, row: StockRow, shipped: int, available: int | None = None) -> StockFigures:
        """`available`: given for a sum over locations (see domain.replenishment.reorder_hint)."""
        hint = reorder_hint(
            shipped=shipped,
            window_days=self.window_days,
            free_stock=row.on_hand - row.reserved,
            safety_stock=row.safety_stock,
            lead_time_days=self.lead_time_days,
            cover_days=self.cover_days,
            available=available,
        )
        return _figures(hint, row, row.available if available is None else available)


def _figures(hint: ReorderHint, row: StockRow, available: int) -> StockFigures:
    return StockFigures(
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        available=available,
        shipped_in_window=hint.shipped_in_window,
        velocity_per_day=round(float(hint.velocity_per_day), 4),
        days_of_cover=None if hint.days_of_cover is None else round(float(hint.days_of_cover), 1),
        reorder_point=hint.reorder_point,
        reorder_now=hint.reorder_now,
        suggested_quantity=hint.suggested_quantity,
    )
