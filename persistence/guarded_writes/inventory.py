"""Stock changes as guarded single statements, each with its ledger row in the same transaction.

Never read-then-write: the WHERE clause of every UPDATE is the check, so two processes racing for
the last unit cannot both win, whatever their isolation level or lock manager.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain import limits
from domain.outside_fulfilment import counter_sale_refusal, shelf_shortfall
from persistence.guarded_writes.guarded_commit import INSERT_MOVEMENT, Guard, batch, run_guard_now
from persistence.guarded_writes.stock_outbox import note_stock_change
from persistence.models import Location, StockLevel, StockMovement, utcnow


class StockError(Exception):
    """A stock change that must not happen; carries the numbers for the caller's message."""

    def __init__(self, message: str, **numbers: Any) -> None:
        super().__init__(message)
        self.numbers = numbers


class UnknownLocation(StockError):
    pass


class InsufficientStock(StockError):
    pass


class TooMuchStock(StockError):
    """More units than a stock record can count (a 32-bit column): refused the same way on SQLite,
    which would store it, as on PostgreSQL, which would not."""


def refuse_overflow(result: Any, location_id: str, sku: str, delta: int) -> None:
    """After an upsert adding `delta` guarded by `fits_with` and returning a column: raise when the
    guard left the row alone (nothing returned; rowcount is not reliable for upserts on psycopg)."""
    if result.first() is None:
        raise TooMuchStock(
            f"{sku} at {location_id}: adding {delta} would take on hand past {limits.INTEGER_MAX}, "
            "more than a stock record holds",
            delta=delta,
        )


def fits_with(delta: int) -> ColumnElement[bool]:
    return StockLevel.on_hand <= limits.INTEGER_MAX - delta


class CounterSaleRefused(StockError):
    """A counter sale that may not take stock where it says (not a store, too many units)."""


class BelowReserved(StockError):
    pass


@dataclass(frozen=True)
class StockRow:
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    held: int = 0
    """Returned units held out of sale until released (refurbish): never part of available."""

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved - self.safety_stock, 0)


def _insert_for(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


_INSERT_MOVEMENT = insert(StockMovement)  # built once: the stock hot path runs it for every move


def put_on_shelf(session: Session, location_id: str, sku: str, units: int) -> None:
    """Add `units` on hand, creating the stock row when the SKU is new here; one statement, so two
    processes receiving at once both count, and an overflow is refused rather than wrapped."""
    now = utcnow()
    insert = _insert_for(session)(StockLevel).values(
        location_id=location_id, sku=sku, on_hand=units, reserved=0, safety_stock=0, updated_at=now
    )
    result = session.execute(
        insert.on_conflict_do_update(
            index_elements=[StockLevel.location_id, StockLevel.sku],
            set_={"on_hand": StockLevel.on_hand + units, "updated_at": now},
            where=fits_with(units),
        ).returning(StockLevel.on_hand)
    )
    refuse_overflow(result, location_id, sku, units)


def _ledger(
    session: Session,
    location_id: str,
    sku: str,
    kind: str,
    on_hand: int,
    reserved: int,
    order_id: str | None = None,
    reason: str = "",
    actor: str = "",
) -> None:
    """The ledger row, written at once with a plain INSERT (write-only: no ORM bookkeeping).
    `actor`: the staff member who moved it (a batched write is the workflow's: nobody)."""
    note_stock_change(session, sku)
    pending = batch(session)
    if pending is not None:
        row = (location_id, sku, kind, on_hand, reserved, order_id, reason, utcnow())
        pending.inserts.append((INSERT_MOVEMENT, row))
        return
    session.connection().execute(
        _INSERT_MOVEMENT,
        {
            "location_id": location_id,
            "sku": sku,
            "kind": kind,
            "on_hand_delta": on_hand,
            "reserved_delta": reserved,
            "order_id": order_id,
            "reason": reason,
            "actor": actor[: limits.EMAIL],
        },
    )


def adjust_on_hand(
    session: Session,
    location_id: str,
    sku: str,
    delta: int,
    *,
    kind: str,
    reason: str,
    order_id: str | None = None,
    actor: str = "",
) -> StockRow:
    """Receive (delta > 0) or remove (delta < 0) units; refuse to go below what is reserved."""
    if session.get(Location, location_id) is None:
        raise UnknownLocation(f"unknown location {location_id!r}", location_id=location_id)
    now = utcnow()
    if delta >= 0:
        put_on_shelf(session, location_id, sku, delta)
    else:
        result = session.execute(
            update(StockLevel)
            .where(
                StockLevel.location_id == location_id,
                StockLevel.sku == sku,
                StockLevel.on_hand + delta >= StockLevel.reserved,
            )
            .values(on_hand=StockLevel.on_hand + delta, updated_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            row = stock_row(session, location_id, sku)
            on_hand, reserved = (row.on_hand, row.reserved) if row else (0, 0)
            raise BelowReserved(
                f"{sku} at {location_id}: removing {-delta} would leave {on_hand + delta} on hand, "
                f"below the {reserved} reserved",
                on_hand=on_hand,
                reserved=reserved,
                delta=delta,
            )
    _ledger(session, location_id, sku, kind, delta, 0, order_id, reason, actor)
    row = stock_row(session, location_id, sku)
    assert row is not None
    return row


def _move_each(
    session: Session,
    location_id: str,
    demand: Mapping[str, int],
    order_id: str,
    *,
    kind: str,
    on_hand: int,
    reserved: int,
    guard: Callable[[int], ColumnElement[bool]],
    guard_sql: str,
    refusal: Callable[[str, int], StockError],
) -> None:
    """One guarded UPDATE per SKU moving on_hand and reserved by sign x quantity, with its ledger row.

    SKUs go in sorted order so two multi-line orders cannot deadlock on PostgreSQL. Inside an
    idempotent step on PostgreSQL the writes are batched to travel with the COMMIT
    (guarded_commit.py); otherwise they run here.
    """
    now = utcnow()
    pending = batch(session)
    for sku in sorted(demand):
        quantity = demand[sku]
        # The ledger row goes first: flushed ahead of the UPDATE, it is written before the row lock
        # is taken, and rolled back with everything else if the guard refuses.
        _ledger(session, location_id, sku, kind, on_hand * quantity, reserved * quantity, order_id)
        step = Guard(location_id, sku, quantity, on_hand, reserved, guard_sql, guard, refusal, now)
        if pending is not None:
            pending.guards.append(step)
        else:
            run_guard_now(session, step)


def reserve(session: Session, location_id: str, demand: Mapping[str, int], order_id: str) -> None:
    """Reserve every SKU of the demand at one location, or raise and reserve nothing.

    All-or-nothing relies on the caller rolling back the transaction on InsufficientStock.
    """
    _move_each(
        session,
        location_id,
        demand,
        order_id,
        kind="reservation",
        on_hand=0,
        reserved=+1,
        guard=lambda q: StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock >= q,
        guard_sql="on_hand - reserved - safety_stock >= {q}",
        refusal=lambda sku, q: InsufficientStock(
            f"{sku} at {location_id}: fewer than {q} available", location_id=location_id, sku=sku, quantity=q
        ),
    )


def release(session: Session, location_id: str, demand: Mapping[str, int], order_id: str) -> None:
    _move_each(
        session,
        location_id,
        demand,
        order_id,
        kind="release",
        on_hand=0,
        reserved=-1,
        guard=lambda q: StockLevel.reserved >= q,
        guard_sql="reserved >= {q}",
        refusal=lambda sku, q: StockError(f"{sku} at {location_id}: cannot release {q}, not reserved"),
    )


def ship(session: Session, location_id: str, demand: Mapping[str, int], order_id: str) -> None:
    """Reserved units leave the building: both on_hand and reserved go down."""
    _take_out_reserved(session, location_id, demand, order_id, kind="shipment", verb="ship")


def write_off_missing(session: Session, location_id: str, demand: Mapping[str, int], order_id: str) -> None:
    """A pick did not find reserved units: they are not on the shelf, so on_hand and reserved both
    go down (a loss in the ledger), and sourcing stops offering them from there."""
    _take_out_reserved(session, location_id, demand, order_id, kind="short_pick", verb="write off")


def _take_out_reserved(
    session: Session, location_id: str, demand: Mapping[str, int], order_id: str, *, kind: str, verb: str
) -> None:
    _move_each(
        session,
        location_id,
        demand,
        order_id,
        kind=kind,
        on_hand=-1,
        reserved=-1,
        guard=lambda q: and_(StockLevel.reserved >= q, StockLevel.on_hand >= q),
        guard_sql="reserved >= {q} AND on_hand >= {q}",
        refusal=lambda sku, q: StockError(f"{sku} at {location_id}: cannot {verb} {q}, not reserved"),
    )


COUNTER_SALE = "counter_sale"


@dataclass(frozen=True)
class CounterSale:
    """What a counter sale took off the store's record, and what the record did not hold."""

    taken: dict[str, int]
    short: dict[str, int]
    """Units sold beyond what the record could give: the shelf had them, the record was wrong."""
    unrecorded: tuple[str, ...] = ()
    """SKUs the store held no stock record of at all (every unit sold is short)."""


def sell_at_counter(session: Session, order_id: str, location_id: str, lines: Mapping[str, int]) -> CounterSale:
    """Take the units a store sold over the counter off its on_hand, in the caller's transaction.

    The goods are already gone, so the sale is never refused for want of stock. It never takes
    reserved units either (on_hand >= reserved holds): those belong to other orders, and taking
    them would hide the error in the wrong place. What the record cannot give is reported as
    `short` for a person to count the shelf; the ledger row of that SKU says so too. A second call
    for the same order finds its ledger rows and takes nothing again.
    """
    if not location_id:
        raise UnknownLocation("the counter sale names no store", location_id=location_id)
    location = session.get(Location, location_id)
    if location is None:
        raise UnknownLocation(f"unknown store {location_id!r}", location_id=location_id)
    refusal = counter_sale_refusal(location_id, location.kind, lines)
    if refusal is not None:
        raise CounterSaleRefused(refusal, location_id=location_id)
    sold = _counter_sold(session, order_id, location_id)
    if sold is not None:
        unrecorded = tuple(sku for sku in sorted(lines) if sku not in sold)
        return CounterSale(sold, shelf_shortfall(lines, sold), unrecorded)
    taken: dict[str, int] = {}
    unrecorded_skus: list[str] = []
    for sku in sorted(lines):  # one lock order, as everywhere, so two sales cannot deadlock
        units = _take_off_shelf(session, location_id, sku, lines[sku])
        if units is None:
            unrecorded_skus.append(sku)
            continue
        taken[sku] = units
        short = lines[sku] - units
        reason = f"counter sale of {lines[sku]}" + (f"; the record was short by {short}" if short else "")
        _ledger(session, location_id, sku, COUNTER_SALE, -units, 0, order_id, reason)
    return CounterSale(taken, shelf_shortfall(lines, taken), tuple(unrecorded_skus))


def _counter_sold(session: Session, order_id: str, location_id: str) -> dict[str, int] | None:
    """Units per SKU an earlier call took for this order's sale, or None when there was none."""
    rows = session.execute(
        select(StockMovement.sku, func.sum(StockMovement.on_hand_delta))
        .where(
            StockMovement.order_id == order_id,
            StockMovement.kind == COUNTER_SALE,
            StockMovement.location_id == location_id,
        )
        .group_by(StockMovement.sku)
    ).all()
    return {sku: -int(total) for sku, total in rows} if rows else None


def _take_off_shelf(session: Session, location_id: str, sku: str, units: int) -> int | None:
    """As many of `units` as the record holds beyond what is reserved; None when it has no record."""
    if _take_unreserved(session, location_id, sku, units):
        return units
    level = session.execute(
        select(StockLevel.on_hand, StockLevel.reserved)
        .where(StockLevel.location_id == location_id, StockLevel.sku == sku)
        .with_for_update()  # PostgreSQL; SQLite's write lock is already held since BEGIN IMMEDIATE
    ).first()
    if level is None:
        return None
    free = min(max(int(level.on_hand) - int(level.reserved), 0), units)
    if free and not _take_unreserved(session, location_id, sku, free):
        raise StockError(f"{sku} at {location_id}: stock moved during a counter sale; try again")
    return free


def _take_unreserved(session: Session, location_id: str, sku: str, units: int) -> bool:
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.location_id == location_id,
            StockLevel.sku == sku,
            StockLevel.on_hand - StockLevel.reserved >= units,
        )
        .values(on_hand=StockLevel.on_hand - units, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def stock_row(session: Session, location_id: str, sku: str) -> StockRow | None:
    level = session.get(StockLevel, (location_id, sku), populate_existing=True)
    if level is None:
        return None
    return StockRow(level.location_id, level.sku, level.on_hand, level.reserved, level.safety_stock, level.held)


def known_skus(session: Session, skus: Iterable[str]) -> set[str]:
    wanted = set(skus)
    if not wanted:
        return set()
    return set(session.scalars(select(StockLevel.sku).where(StockLevel.sku.in_(wanted)).distinct()))


def ledger_totals(session: Session) -> dict[tuple[str, str], tuple[int, int]]:
    """(location, sku) → (on_hand, reserved) rebuilt from the ledger alone, for audits and tests."""
    rows = session.execute(
        select(
            StockMovement.location_id,
            StockMovement.sku,
            func.sum(StockMovement.on_hand_delta),
            func.sum(StockMovement.reserved_delta),
        ).group_by(StockMovement.location_id, StockMovement.sku)
    ).all()
    return {(loc, sku): (int(on_hand), int(reserved)) for loc, sku, on_hand, reserved in rows}
