"""A counter sale's stock move against real SQLite and PostgreSQL: it takes what the record holds
beyond what is reserved, in one transaction with its ledger and outbox rows, and only once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from contracts.inventory import SellAtCounterResult
from persistence.guarded_writes import inventory
from persistence.guarded_writes.idempotency import Done, run_once
from persistence.models import StockLevel, StockMovement, StockOutbox
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, stock

STORE = "STORE-AMS"


def _level(db, sku):
    with db.session() as session:
        row = inventory.stock_row(session, STORE, sku)
        return (row.on_hand, row.reserved) if row else None


def _sell(db, order_id, lines, location_id=STORE):
    with UnitOfWork(db.session_factory) as uow:
        sale = inventory.sell_at_counter(uow.session, order_id, location_id, lines)
        uow.commit()
    return sale


def _count(db, model, *where):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_counter_sale_takes_units_off_on_hand_with_ledger_and_outbox_rows(database):
    add_location(database.session_factory, STORE, kind="store")
    stock(database.session_factory, STORE, {"A": 5, "B": 2})
    outbox_before = _count(database, StockOutbox)
    sale = _sell(database, "order-pos-1", {"B": 2, "A": 3})
    assert (sale.taken, sale.short, sale.unrecorded) == ({"A": 3, "B": 2}, {}, ())
    assert (_level(database, "A"), _level(database, "B")) == ((2, 0), (0, 0))
    with database.session() as session:
        rows = session.scalars(select(StockMovement).where(StockMovement.order_id == "order-pos-1"))
        assert [(m.kind, m.sku, m.on_hand_delta, m.reserved_delta) for m in rows] == [
            ("counter_sale", "A", -3, 0),
            ("counter_sale", "B", -2, 0),
        ]
        assert inventory.ledger_totals(session)[(STORE, "A")] == (2, 0)
    assert _count(database, StockOutbox) == outbox_before + 2


def test_the_record_falling_short_never_takes_reserved_units(database):
    add_location(database.session_factory, STORE, kind="store")
    add_location(database.session_factory, "WH")
    stock(database.session_factory, STORE, {"A": 4, "C": 1})
    stock(database.session_factory, "WH", {"B": 1})
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, STORE, {"A": 3, "C": 1}, "order-webshop-other")
        uow.commit()
    sale = _sell(database, "order-pos-2", {"A": 3, "B": 2, "C": 1})
    assert sale.taken == {"A": 1, "C": 0}
    assert sale.short == {"A": 2, "B": 2, "C": 1}
    assert sale.unrecorded == ("B",)
    assert (_level(database, "A"), _level(database, "C"), _level(database, "B")) == ((3, 3), (1, 1), None)
    with database.session() as session:
        reasons = dict(
            session.execute(
                select(StockMovement.sku, StockMovement.reason).where(StockMovement.order_id == "order-pos-2")
            ).all()
        )
    assert reasons == {
        "A": "counter sale of 3; the record was short by 2",
        "C": "counter sale of 1; the record was short by 1",
    }


def test_an_unknown_store_is_refused_and_nothing_is_written(database):
    add_location(database.session_factory, STORE, kind="store")
    stock(database.session_factory, STORE, {"A": 5})
    movements = _count(database, StockMovement)
    with pytest.raises(inventory.UnknownLocation, match="unknown store 'STORE-NOPE'"):
        _sell(database, "order-pos-3", {"A": 1}, location_id="STORE-NOPE")
    assert _count(database, StockMovement) == movements and _level(database, "A") == (5, 0)


def test_selling_the_same_order_twice_takes_the_stock_once(database):
    add_location(database.session_factory, STORE, kind="store")
    stock(database.session_factory, STORE, {"A": 5})
    first = _sell(database, "order-pos-4", {"A": 2})
    second = _sell(database, "order-pos-4", {"A": 2})
    assert first == second and _level(database, "A") == (3, 0)
    assert _count(database, StockMovement, StockMovement.order_id == "order-pos-4") == 1


def test_counter_sales_racing_reservations_keep_the_record_and_the_ledger_true(database):
    """10 counter sales and 10 reservations of one unit each race for 10 units: every sale is taken
    (from the record or as a shortfall), no reservation is broken, and the ledger still adds up."""
    add_location(database.session_factory, STORE, kind="store")
    stock(database.session_factory, STORE, {"HOT": 10})
    start = threading.Barrier(20)

    def attempt(n: int) -> tuple[str, int]:
        start.wait()
        if n % 2:
            sale = run_once(
                database.session_factory,
                f"order-pos-r{n}:counter-sale",
                lambda s: SellAtCounterResult(inventory.sell_at_counter(s, f"order-pos-r{n}", STORE, {"HOT": 1}).taken),
                SellAtCounterResult,
            )
            return "sold", sale.taken.get("HOT", 0)
        try:
            run_once(
                database.session_factory,
                f"order-webshop-r{n}:reserve:1",
                lambda s: inventory.reserve(s, STORE, {"HOT": 1}, f"order-webshop-r{n}") or Done(),
                Done,
            )
        except inventory.InsufficientStock:
            return "reserved", 0
        return "reserved", 1

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    taken = sum(units for kind, units in outcomes if kind == "sold")
    reserved = sum(units for kind, units in outcomes if kind == "reserved")
    assert taken + reserved == 10
    assert _level(database, "HOT") == (10 - taken, reserved)
    with database.session() as session:
        assert inventory.ledger_totals(session)[(STORE, "HOT")] == (10 - taken, reserved)
        level = session.get(StockLevel, (STORE, "HOT"))
        assert level is not None and level.on_hand >= level.reserved


@pytest.mark.parametrize("kind", ["warehouse", "dropship"])
def test_a_counter_sale_takes_nothing_from_a_location_that_is_not_a_store(database, kind):
    add_location(database.session_factory, "WH", kind=kind)
    stock(database.session_factory, "WH", {"A": 5})
    with pytest.raises(inventory.CounterSaleRefused, match=f"WH is a {kind}, not a store"):
        _sell(database, "order-pos-wh", {"A": 5}, location_id="WH")
    assert _count(database, StockMovement) == 1  # the stock's own receipt only
    with database.session() as session:
        assert inventory.stock_row(session, "WH", "A").on_hand == 5


def test_a_counter_sale_takes_at_most_a_counters_worth_of_a_sku(database):
    add_location(database.session_factory, STORE, kind="store")
    stock(database.session_factory, STORE, {"A": 5000})
    with pytest.raises(inventory.CounterSaleRefused, match="at most 1000 units of a SKU, not A x1001"):
        _sell(database, "order-pos-big", {"A": 1001})
    assert _level(database, "A") == (5000, 0)
    assert _sell(database, "order-pos-ok", {"A": 1000}).taken == {"A": 1000}
