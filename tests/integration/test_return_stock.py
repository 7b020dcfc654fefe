"""A return's dispositions booked against real SQLite and PostgreSQL: restocked units sellable and
fed to the channels, refurbished units held out of every promise, write-offs and supplier returns
recorded, and all of it once through the workflow's idempotent step."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from activities.stock_feed import StockFeedActivities
from domain.return_lifecycle import (
    Condition,
    Disposition,
    DispositionLine,
    ReceivedLine,
    StockEffects,
    WriteOff,
    check_dispositions,
    check_receipt,
)
from persistence.guarded_writes import inventory
from persistence.guarded_writes.idempotency import run_once
from persistence.guarded_writes.return_stock import book_dispositions
from persistence.guarded_writes.stock_outbox import atp_by_sku
from persistence.models import Location, StockLevel, StockMovement, StockOutbox, StockWriteOff, SupplierReturn
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, stock

AT = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
ORDER = "order-webshop-7001"


@dataclass
class Booked:
    phrases: list[str]


def _book(db, effects: StockEffects, *, location_id: str = "DC-1", return_id: str = "return-7001-1") -> list[str]:
    with UnitOfWork(db.session_factory) as uow:
        phrases = book_dispositions(
            uow.session, order_id=ORDER, return_id=return_id, location_id=location_id, effects=effects, at=AT
        )
        uow.commit()
    return phrases


def _row(db, sku: str, location_id: str = "DC-1") -> inventory.StockRow | None:
    with db.session() as session:
        return inventory.stock_row(session, location_id, sku)


def _ledger(db, sku: str) -> list[tuple[str, int, int, str | None, str]]:
    with db.session() as session:
        rows = session.scalars(select(StockMovement).where(StockMovement.sku == sku).order_by(StockMovement.id))
        return [(r.kind, r.on_hand_delta, r.held_delta, r.order_id, r.reason) for r in rows]


def test_restocked_units_go_on_hand_with_a_return_ledger_row_and_reach_the_channels(database):
    add_location(database.session_factory, "DC-1")
    stock(database.session_factory, "DC-1", {"SKU-1": 3})
    phrases = _book(database, StockEffects(sellable={"SKU-1": 2}))
    assert phrases == ["2 x SKU-1 back on the shelf at DC-1"]
    row = _row(database, "SKU-1")
    assert (row.on_hand, row.held, row.available) == (5, 0, 5)
    assert _ledger(database, "SKU-1")[-1] == ("return", 2, 0, ORDER, "return-7001-1")
    feed = _Feed()
    StockFeedActivities(database.session_factory, {"webshop": feed}, client=cast(Any, None))._deliver(batch_size=100)
    assert feed.received[-1][:2] == ("SKU-1", 5)  # the channel hears of the restocked units


def test_refurbished_units_are_held_never_available_and_the_feed_is_not_told(database):
    add_location(database.session_factory, "DC-1")
    stock(database.session_factory, "DC-1", {"SKU-2": 1})
    with database.session() as session:
        outbox_before = len(session.scalars(select(StockOutbox)).all())
    phrases = _book(database, StockEffects(held={"SKU-2": 2}))
    assert phrases == ["2 x SKU-2 held for refurbishing at DC-1"]
    row = _row(database, "SKU-2")
    assert (row.on_hand, row.reserved, row.held, row.available) == (1, 0, 2, 1)
    assert _ledger(database, "SKU-2")[-1] == ("refurbish", 0, 2, ORDER, "return-7001-1")
    with database.session() as session:
        assert atp_by_sku(session, ["SKU-2"])["SKU-2"]["webshop"] == 1
        assert len(session.scalars(select(StockOutbox)).all()) == outbox_before  # nothing sellable changed


def test_held_units_cannot_be_reserved_by_an_order(database):
    add_location(database.session_factory, "DC-1")
    _book(database, StockEffects(held={"SKU-2": 4}))
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.InsufficientStock):
        inventory.reserve(uow.session, "DC-1", {"SKU-2": 1}, "order-webshop-7002")
    row = _row(database, "SKU-2")
    assert (row.on_hand, row.reserved, row.held) == (0, 0, 4)


def test_a_sku_the_location_never_held_gets_its_stock_record(database):
    add_location(database.session_factory, "DC-1")
    _book(database, StockEffects(sellable={"NEW-1": 1}, held={"NEW-2": 1}))
    assert (_row(database, "NEW-1").on_hand, _row(database, "NEW-1").held) == (1, 0)
    assert (_row(database, "NEW-2").on_hand, _row(database, "NEW-2").held) == (0, 1)


def test_scrapped_units_are_written_off_with_their_reason_and_never_sellable(database):
    add_location(database.session_factory, "DC-1")
    stock(database.session_factory, "DC-1", {"SKU-3": 2})
    effects = StockEffects(
        written_off=(WriteOff("SKU-3", 1, "returned damaged"), WriteOff("SKU-3", 2, "wet box")),
    )
    phrases = _book(database, effects)
    assert phrases == [
        "1 x SKU-3 written off at DC-1 (returned damaged)",
        "2 x SKU-3 written off at DC-1 (wet box)",
    ]
    row = _row(database, "SKU-3")
    assert (row.on_hand, row.held) == (2, 0)
    with database.session() as session:
        records = session.scalars(select(StockWriteOff).order_by(StockWriteOff.id)).all()
    assert [(w.sku, w.quantity, w.reason, w.source, w.order_id, w.return_id) for w in records] == [
        ("SKU-3", 1, "returned damaged", "return", ORDER, "return-7001-1"),
        ("SKU-3", 2, "wet box", "return", ORDER, "return-7001-1"),
    ]
    assert records[0].written_off_at == AT
    assert _ledger(database, "SKU-3")[-1] == ("write_off", 0, 0, ORDER, "return-7001-1: wet box")


def test_units_for_the_supplier_are_recorded_and_never_enter_stock(database):
    add_location(database.session_factory, "DC-1")
    phrases = _book(database, StockEffects(to_supplier={"SKU-4": 3}))
    assert phrases == ["3 x SKU-4 sent back to the supplier from DC-1"]
    assert _row(database, "SKU-4") is None  # no stock record: not a SKU the location ever held
    with database.session() as session:
        [sent] = session.scalars(select(SupplierReturn)).all()
    assert (sent.location_id, sent.sku, sent.quantity, sent.order_id, sent.return_id) == (
        "DC-1",
        "SKU-4",
        3,
        ORDER,
        "return-7001-1",
    )
    assert _ledger(database, "SKU-4") == [("to_supplier", 0, 0, ORDER, "return-7001-1")]


def test_every_effect_at_once_and_the_ledger_rebuilds_the_levels(database):
    add_location(database.session_factory, "DC-1")
    effects = StockEffects(
        sellable={"B": 1, "A": 2},
        held={"A": 1},
        written_off=(WriteOff("C", 1, "returned damaged"),),
        to_supplier={"D": 1},
    )
    phrases = _book(database, effects)
    assert phrases == [
        "2 x A back on the shelf at DC-1",
        "1 x A held for refurbishing at DC-1",
        "1 x B back on the shelf at DC-1",
        "1 x C written off at DC-1 (returned damaged)",
        "1 x D sent back to the supplier from DC-1",
    ]
    with database.session() as session:
        totals = inventory.ledger_totals(session)
        held: dict[str, int] = {}
        for move in session.scalars(select(StockMovement)):
            held[move.sku] = held.get(move.sku, 0) + move.held_delta
    for sku in ("A", "B"):
        row = _row(database, sku)
        assert totals[("DC-1", sku)] == (row.on_hand, row.reserved) and held[sku] == row.held
    assert (_row(database, "A").on_hand, _row(database, "A").held, _row(database, "B").on_hand) == (2, 1, 1)
    assert _row(database, "C") is None and _row(database, "D") is None


def test_an_unknown_location_is_refused_and_nothing_is_booked(database):
    with UnitOfWork(database.session_factory) as uow, pytest.raises(inventory.UnknownLocation):
        book_dispositions(
            uow.session,
            order_id=ORDER,
            return_id="return-7001-1",
            location_id="NOPE",
            effects=StockEffects(to_supplier={"SKU-4": 1}),
            at=AT,
        )
    with database.session() as session:
        assert session.scalars(select(SupplierReturn)).all() == []


def test_an_empty_parcel_books_nothing_wherever_it_was_opened(database):
    with UnitOfWork(database.session_factory) as uow:
        assert (
            book_dispositions(
                uow.session, order_id=ORDER, return_id="return-7001-1", location_id="", effects=StockEffects(), at=AT
            )
            == []
        )


def test_through_run_once_a_repeated_step_books_once(database):
    add_location(database.session_factory, "DC-1")
    effects = StockEffects(
        sellable={"A": 2}, held={"B": 1}, written_off=(WriteOff("C", 1, "returned damaged"),), to_supplier={"D": 1}
    )

    def step(session):
        phrases = book_dispositions(
            session, order_id=ORDER, return_id="return-7001-1", location_id="DC-1", effects=effects, at=AT
        )
        return Booked(phrases)

    key = f"{ORDER}:return-7001-1:dispose"
    first = run_once(database.session_factory, key, step, Booked)
    again = run_once(database.session_factory, key, step, Booked)
    assert again == first and len(first.phrases) == 4
    assert (_row(database, "A").on_hand, _row(database, "B").held) == (2, 1)
    with database.session() as session:
        assert len(session.scalars(select(StockWriteOff)).all()) == 1
        assert len(session.scalars(select(SupplierReturn)).all()) == 1
        moves = session.scalars(select(StockMovement).order_by(StockMovement.kind)).all()
    assert [(m.kind, m.sku, m.on_hand_delta, m.held_delta) for m in moves] == [
        ("refurbish", "B", 0, 1),
        ("return", "A", 2, 0),
        ("to_supplier", "D", 0, 0),
        ("write_off", "C", 0, 0),
    ]  # on PostgreSQL these travel in the step's COMMIT batch: every column lands where it belongs
    assert {(m.order_id, m.reason.split(":")[0], m.actor) for m in moves} == {(ORDER, "return-7001-1", "")}


def test_effects_with_a_zero_or_a_reasonless_write_off_are_refused(database):
    add_location(database.session_factory, "DC-1")
    for effects in (StockEffects(sellable={"A": 0}), StockEffects(written_off=(WriteOff("A", 1, " "),))):
        with UnitOfWork(database.session_factory) as uow, pytest.raises(ValueError):
            book_dispositions(uow.session, order_id=ORDER, return_id="r", location_id="DC-1", effects=effects, at=AT)


class _Feed:
    def __init__(self) -> None:
        self.received: list[tuple[str, int, int]] = []

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        self.received.append((sku, quantity, sequence))


_RETURNS = itertools.count(1)
_RECEIVED = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(list(Condition)), st.integers(1, 5)),
    min_size=1,
    max_size=6,
    unique_by=lambda line: (line[0], line[1]),
)


def _figures(db) -> dict[str, dict[str, int]]:
    """Per SKU at DC-1: on hand and held as recorded and as the ledger rebuilds them, and the units
    written off and sent to the supplier."""
    with db.session() as session:
        out: dict[str, dict[str, int]] = {}
        for level in session.scalars(select(StockLevel).where(StockLevel.location_id == "DC-1")):
            out.setdefault(level.sku, {}).update(on_hand=level.on_hand, held=level.held)
        for move in session.scalars(select(StockMovement).where(StockMovement.location_id == "DC-1")):
            figures = out.setdefault(move.sku, {})
            figures["ledger_on_hand"] = figures.get("ledger_on_hand", 0) + move.on_hand_delta
            figures["ledger_held"] = figures.get("ledger_held", 0) + move.held_delta
        for write_off in session.scalars(select(StockWriteOff)):
            out.setdefault(write_off.sku, {})["scrapped"] = out[write_off.sku].get("scrapped", 0) + write_off.quantity
        for sent in session.scalars(select(SupplierReturn)):
            out.setdefault(sent.sku, {})["to_supplier"] = out[sent.sku].get("to_supplier", 0) + sent.quantity
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(received=_RECEIVED, choices=st.lists(st.sampled_from(list(Disposition)), min_size=6, max_size=6))
def test_any_accepted_dispositions_book_every_unit_once_and_the_ledger_rebuilds_the_levels(database, received, choices):
    with database.session() as session:
        known = session.get(Location, "DC-1") is not None
    if not known:
        add_location(database.session_factory, "DC-1")
    announced: dict[str, int] = {}
    for sku, _, units in received:
        announced[sku] = announced.get(sku, 0) + units
    receipt = check_receipt(announced, [ReceivedLine(sku, units, condition) for sku, condition, units in received])
    lines = [
        DispositionLine(sku, units, choice, "returned damaged" if choice is Disposition.SCRAP else "")
        for (sku, _, units), choice in zip(received, choices, strict=False)
    ]
    effects = check_dispositions(receipt, lines)
    before = _figures(database)
    _book(database, effects, return_id=f"return-7001-{next(_RETURNS)}")
    after = _figures(database)
    for sku in ("A", "B", "C"):
        was, now = before.get(sku, {}), after.get(sku, {})

        def moved(key: str, was: dict[str, int] = was, now: dict[str, int] = now) -> int:
            return now.get(key, 0) - was.get(key, 0)

        assert moved("on_hand") == effects.sellable.get(sku, 0)
        assert moved("held") == effects.held.get(sku, 0)
        assert moved("scrapped") == effects.defects.get(sku, 0)
        assert moved("to_supplier") == effects.to_supplier.get(sku, 0)
        assert (now.get("ledger_on_hand", 0), now.get("ledger_held", 0)) == (now.get("on_hand", 0), now.get("held", 0))
    assert sum(effects.units().values()) == sum(announced.values())
