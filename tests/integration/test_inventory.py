"""Stock changes against real SQLite and PostgreSQL: guards, all-or-nothing, ledger, races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from persistence.guarded_writes import inventory
from persistence.guarded_writes.idempotency import Done, run_once
from persistence.models import ActivityResult, StockLevel, StockMovement
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, stock


@dataclass
class Reserved:
    """What the racing steps record as their result."""

    units: int


def _row(db, location_id, sku):
    with db.session() as session:
        return inventory.stock_row(session, location_id, sku)


def test_receipt_creates_the_stock_record_and_a_ledger_row(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"SKU-1": 7})
    stock(database.session_factory, "AMS", {"SKU-1": 3})
    row = _row(database, "AMS", "SKU-1")
    assert (row.on_hand, row.reserved, row.available) == (10, 0, 10)
    with database.session() as session:
        assert inventory.ledger_totals(session)[("AMS", "SKU-1")] == (10, 0)


def test_adjustment_below_reserved_is_refused_with_the_numbers(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"SKU-1": 5})
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"SKU-1": 4}, "order-webshop-1")
        uow.commit()
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.BelowReserved) as refused:
        inventory.adjust_on_hand(uow.session, "AMS", "SKU-1", -2, kind="adjustment", reason="damaged")
    assert refused.value.numbers == {"on_hand": 5, "reserved": 4, "delta": -2}
    assert _row(database, "AMS", "SKU-1").on_hand == 5


def test_unknown_location_is_refused(database):
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.UnknownLocation):
        inventory.adjust_on_hand(uow.session, "NOPE", "SKU-1", 1, kind="receipt", reason="x")


def test_multi_line_reservation_is_all_or_nothing(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 5, "B": 1})
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.InsufficientStock):
        inventory.reserve(uow.session, "AMS", {"A": 2, "B": 2}, "order-webshop-2")
    assert _row(database, "AMS", "A").reserved == 0
    assert _row(database, "AMS", "B").reserved == 0


def test_safety_stock_is_never_promised(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 5})
    with UnitOfWork(database.session_factory) as uow:
        uow.session.get(StockLevel, ("AMS", "A")).safety_stock = 2
        uow.commit()
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.InsufficientStock):
        inventory.reserve(uow.session, "AMS", {"A": 4}, "order-webshop-3")
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"A": 3}, "order-webshop-3")
        uow.commit()
    assert _row(database, "AMS", "A").available == 0


def test_the_database_itself_refuses_reserved_above_on_hand(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 1})
    with UnitOfWork(database.session_factory) as uow, pytest.raises(IntegrityError):
        uow.session.get(StockLevel, ("AMS", "A")).reserved = 2
        uow.commit()


def test_ledger_rebuilds_levels_after_a_mixed_run(database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "UTR")
    stock(database.session_factory, "AMS", {"A": 10, "B": 4})
    stock(database.session_factory, "UTR", {"A": 3})
    with UnitOfWork(database.session_factory) as uow:
        s = uow.session
        inventory.reserve(s, "AMS", {"A": 4, "B": 2}, "o1")
        inventory.ship(s, "AMS", {"A": 3, "B": 2}, "o1")
        inventory.release(s, "AMS", {"A": 1}, "o1")
        inventory.reserve(s, "UTR", {"A": 2}, "o2")
        inventory.adjust_on_hand(s, "UTR", "A", -1, kind="adjustment", reason="count")
        uow.commit()
    with database.session() as session:
        rebuilt = inventory.ledger_totals(session)
        levels = {(s.location_id, s.sku): (s.on_hand, s.reserved) for s in session.scalars(select(StockLevel))}
    assert rebuilt == levels
    assert levels == {("AMS", "A"): (7, 0), ("AMS", "B"): (2, 0), ("UTR", "A"): (2, 2)}


def test_racing_orders_never_oversell(database):
    """60 threads race for 10 units through the same guarded path the activities use."""
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"HOT": 10})
    start = threading.Barrier(60)

    def attempt(n: int) -> bool:
        start.wait()
        try:
            run_once(
                database.session_factory,
                f"order-webshop-{n}:reserve:1",
                lambda s: inventory.reserve(s, "AMS", {"HOT": 1}, f"order-webshop-{n}") or Done(),
                Done,
            )
        except inventory.InsufficientStock:
            return False
        return True

    with ThreadPoolExecutor(max_workers=60) as pool:
        won = sum(pool.map(attempt, range(60)))
    row = _row(database, "AMS", "HOT")
    assert won == 10
    assert (row.on_hand, row.reserved) == (10, 10)
    with database.session() as session:
        assert inventory.ledger_totals(session)[("AMS", "HOT")] == (10, 10)


def test_a_repeated_step_takes_effect_once_even_when_concurrent(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 10})
    start = threading.Barrier(8)

    def attempt(_: int) -> Reserved:
        start.wait()
        return run_once(
            database.session_factory,
            "order-webshop-9:reserve:1",
            lambda s: inventory.reserve(s, "AMS", {"A": 3}, "order-webshop-9") or Reserved(3),
            Reserved,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results == [Reserved(3)] * 8  # the repeats read back what the first attempt stored
    assert _row(database, "AMS", "A").reserved == 3
    with database.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.kind == "reservation"))
            == 1
        )


def test_a_refused_line_in_an_idempotent_step_leaves_nothing_behind(database):
    """On PostgreSQL the guards travel with the COMMIT; a refusal must still name the SKU and undo
    every write of the step: ledger rows, outbox rows and the idempotency record."""
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"A": 5, "B": 1})
    with database.session() as session:
        movements_before = session.scalar(select(func.count()).select_from(StockMovement))
    with pytest.raises(inventory.InsufficientStock) as refused:
        run_once(
            database.session_factory,
            "order-webshop-7:reserve:1",
            lambda s: inventory.reserve(s, "AMS", {"A": 2, "B": 2}, "order-webshop-7") or Reserved(4),
            Reserved,
        )
    assert refused.value.numbers["sku"] == "B"
    assert (_row(database, "AMS", "A").reserved, _row(database, "AMS", "B").reserved) == (0, 0)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(StockMovement)) == movements_before
        assert session.get(ActivityResult, "order-webshop-7:reserve:1") is None
    # and the same step can still succeed once stock arrives
    stock(database.session_factory, "AMS", {"B": 1})
    result = run_once(
        database.session_factory,
        "order-webshop-7:reserve:1",
        lambda s: inventory.reserve(s, "AMS", {"A": 2, "B": 2}, "order-webshop-7") or Reserved(4),
        Reserved,
    )
    assert result == Reserved(4)
    assert (_row(database, "AMS", "A").reserved, _row(database, "AMS", "B").reserved) == (2, 2)
