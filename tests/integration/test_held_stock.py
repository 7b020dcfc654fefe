"""Held (refurbished) stock against real SQLite and PostgreSQL: shown beside on hand, released by a
person at that location to sellable (the channels' feed follows) or to scrap (a write-off), never
below zero when people race for the last units, every bad request a 4xx with a message."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from activities.stock_feed import StockFeedActivities
from domain.return_lifecycle import StockEffects
from persistence.guarded_writes import held_stock, inventory
from persistence.guarded_writes.return_stock import book_dispositions
from persistence.guarded_writes.stock_outbox import atp_by_sku
from persistence.models import StockMovement, StockOutbox, StockWriteOff
from persistence.unit_of_work import UnitOfWork
from tests.factories import stock
from tests.integration.screens import app_for
from tests.integration.staff_members import ADMIN, ADMIN_TOKEN, Staff, staff  # noqa: F401 (a fixture)

AT = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)


@pytest.fixture
def people(staff: Staff) -> Staff:  # noqa: F811
    """The staff of tests.integration.staff_members: AMS and UTR exist, the warehouse user works at AMS."""
    return staff


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    with TestClient(app_for(database, ADMIN_TOKEN)) as client:
        yield client


def _hold(db, location_id: str, sku: str, units: int, return_id: str = "return-order-webshop-1-1") -> None:
    with UnitOfWork(db.session_factory) as uow:
        book_dispositions(
            uow.session,
            order_id="order-webshop-1",
            return_id=return_id,
            location_id=location_id,
            effects=StockEffects(held={sku: units}),
            at=AT,
        )
        uow.commit()


def _release(api: TestClient, headers: dict[str, str] = ADMIN, **body: object) -> Any:
    request = {"location_id": "AMS", "sku": "MUG", "quantity": 1, "to": "sellable", **body}
    return api.post("/inventory/held/release", json=request, headers=headers)


def _row(db, sku: str = "MUG", location_id: str = "AMS") -> inventory.StockRow:
    with db.session() as session:
        row = inventory.stock_row(session, location_id, sku)
    assert row is not None
    return row


def _held_from_ledger(db, sku: str = "MUG", location_id: str = "AMS") -> int:
    with db.session() as session:
        total = session.scalar(
            select(func.sum(StockMovement.held_delta)).where(
                StockMovement.sku == sku, StockMovement.location_id == location_id
            )
        )
    return int(total or 0)


def test_held_units_show_per_location_beside_every_field_the_contract_promises(api, database, people):
    stock(database.session_factory, "AMS", {"MUG": 2})
    _hold(database, "AMS", "MUG", 3)
    response = api.get("/inventory/MUG", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["available"], body["on_hand"], body["held"]) == (2, 2, 3)
    [at_ams] = body["locations"]
    assert at_ams == {
        "location_id": "AMS",
        "on_hand": 2,
        "reserved": 0,
        "safety_stock": 0,
        "available": 2,
        "held": 3,
    }
    assert body["channels"]["webshop"] == 2  # held units are never promised
    overview = api.get("/inventory", params={"sku": "MUG"}, headers=ADMIN).json()
    assert overview["data"][0]["held"] == 3
    ledger = api.get("/inventory/MUG/ledger", headers=ADMIN).json()["data"]
    assert (ledger[0]["kind"], ledger[0]["on_hand_delta"], ledger[0]["held_delta"]) == ("refurbish", 0, 3)


def test_a_release_to_sellable_puts_units_on_hand_and_the_channels_hear_of_it(api, database, people):
    _hold(database, "AMS", "MUG", 3)
    with database.session() as session:
        outbox_before = session.scalar(select(func.count()).select_from(StockOutbox)) or 0
    response = _release(api, quantity=2, reason="cleaned and repacked", headers=people.warehouse_ams.headers)
    assert response.status_code == 201, response.text
    assert (response.json()["on_hand"], response.json()["held"], response.json()["available"]) == (2, 1, 2)
    with database.session() as session:
        assert atp_by_sku(session, ["MUG"])["MUG"]["webshop"] == 2
        assert (session.scalar(select(func.count()).select_from(StockOutbox)) or 0) == outbox_before + 1
        move = session.scalars(select(StockMovement).order_by(StockMovement.id.desc())).first()
    assert move is not None
    assert (move.kind, move.on_hand_delta, move.held_delta, move.reason, move.actor) == (
        "refurbished",
        2,
        -2,
        "cleaned and repacked",
        people.warehouse_ams.label,
    )
    feed = _Feed()
    StockFeedActivities(database.session_factory, {"webshop": feed}, client=cast(Any, None))._deliver(batch_size=100)
    assert feed.received[-1][:2] == ("MUG", 2)  # the channel is told the released units are for sale
    with UnitOfWork(database.session_factory) as uow:  # and an order may now reserve them
        inventory.reserve(uow.session, "AMS", {"MUG": 2}, "order-webshop-2")
        uow.commit()
    assert _row(database).reserved == 2


def test_a_release_to_scrap_writes_off_with_the_reason_and_nothing_becomes_sellable(api, database, people):
    _hold(database, "AMS", "MUG", 2)
    response = _release(api, to="scrap", reason="screen cracked in cleaning")
    assert response.status_code == 201, response.text
    row = _row(database)
    assert (row.on_hand, row.held, row.available) == (0, 1, 0)
    with database.session() as session:
        [write_off] = session.scalars(select(StockWriteOff)).all()
    assert (write_off.sku, write_off.quantity, write_off.reason, write_off.source, write_off.actor) == (
        "MUG",
        1,
        "screen cracked in cleaning",
        "held",
        "admin token",
    )
    assert _held_from_ledger(database) == row.held


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"location_id": "NOPE"}, 422),
        ({"quantity": 0}, 422),
        ({"quantity": "1"}, 422),
        ({"to": "shelf"}, 422),
        ({"to": "scrap", "reason": "  "}, 422),
        ({"reason": "x" * 201}, 422),
        ({"quantity": 3}, 409),
        ({"sku": "NEVER-HELD"}, 409),
    ],
)
def test_bad_releases_get_a_4xx_with_a_message_and_move_nothing(api, database, people, change, status):
    _hold(database, "AMS", "MUG", 2)
    response = _release(api, **change)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    message = detail["message"] if isinstance(detail, dict) else detail
    assert message
    if status == 409:
        assert detail["refusal"] == "not_enough_held" and detail["held"] in (0, 2)
    assert (_row(database).on_hand, _row(database).held) == (0, 2)


def test_a_release_is_for_staff_who_count_stock_at_that_location(api, database, people):
    _hold(database, "AMS", "MUG", 1)
    _hold(database, "UTR", "MUG", 1)
    assert api.post("/inventory/held/release", json={}).status_code == 401
    assert _release(api, headers=people.support.headers).status_code == 403
    assert _release(api, location_id="UTR", headers=people.warehouse_ams.headers).status_code == 403
    assert _release(api, headers=people.warehouse_ams.headers).status_code == 201
    assert _release(api, location_id="UTR", headers=people.admin.headers).status_code == 201


def test_racing_releases_never_take_held_below_zero(database):
    from tests.factories import add_location

    add_location(database.session_factory, "AMS")
    _hold(database, "AMS", "MUG", 5)
    jobs = ["sellable", "scrap"] * 8
    start = threading.Barrier(len(jobs))

    def attempt(to: str) -> bool:
        start.wait()
        with UnitOfWork(database.session_factory) as uow:
            try:
                if to == "sellable":
                    held_stock.release_to_sellable(uow.session, "AMS", "MUG", 1, at=AT, reason="race")
                else:
                    held_stock.scrap_held(uow.session, "AMS", "MUG", 1, at=AT, reason="race")
            except held_stock.NotEnoughHeld:
                return False
            uow.commit()
            return True

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(attempt, jobs))
    assert sum(results) == 5
    row = _row(database)
    with database.session() as session:
        scrapped = session.scalar(select(func.sum(StockWriteOff.quantity))) or 0
    assert row.held == 0 and row.on_hand + scrapped == 5
    assert row.on_hand == sum(ok for ok, to in zip(results, jobs, strict=True) if to == "sellable")
    assert _held_from_ledger(database) == 0
    with database.session() as session:
        assert inventory.ledger_totals(session)[("AMS", "MUG")] == (row.on_hand, 0)


class _Feed:
    def __init__(self) -> None:
        self.received: list[tuple[str, int, int]] = []

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        self.received.append((sku, quantity, sequence))
