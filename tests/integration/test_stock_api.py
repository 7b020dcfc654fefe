"""The staff stock API against real SQLite and PostgreSQL: locations, receipts, transfers, safety
stock, the overview, per-channel ATP and reorder hints; every bad input a 4xx with a message."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.main import create_app
from config import load_settings
from domain.channels import ChannelPolicy
from ops.temporal_dev import free_port
from persistence.guarded_writes import inventory, stock_ops
from persistence.guarded_writes.stock_outbox import atp_by_sku
from persistence.master_data.channels import save_policy
from persistence.models import ChannelStockLevel, StockLevel, StockMovement, StockOutbox, utcnow
from persistence.unit_of_work import UnitOfWork

TOKEN = "test-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}

AMS = {
    "location_id": "AMS",
    "name": "Amsterdam DC",
    "kind": "warehouse",
    "country": "nl",
    "postcode": "1043 AP",
    "latitude": 52.386,
    "longitude": 4.836,
}


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _location(api: TestClient, location_id: str, **extra) -> None:
    body = {**AMS, "location_id": location_id, "name": f"{location_id} site", **extra}
    response = api.post("/locations", json=body, headers=STAFF)
    assert response.status_code in (200, 201), response.text


def _receive(api: TestClient, location_id: str, sku: str, quantity: int) -> dict:
    body = {"location_id": location_id, "sku": sku, "quantity": quantity}
    response = api.post("/inventory/receipts", json=body, headers=STAFF)
    assert response.status_code == 201, response.text
    return response.json()


def _transfer(api: TestClient, source: str, destination: str, sku: str, quantity: object, reason: str = "rebalance"):
    body = {"from_location_id": source, "to_location_id": destination, "sku": sku, "quantity": quantity}
    return api.post("/inventory/transfers", json={**body, "reason": reason}, headers=STAFF)


def _levels(database) -> dict[tuple[str, str], tuple[int, int]]:
    with database.session() as session:
        return {(s.location_id, s.sku): (s.on_hand, s.reserved) for s in session.scalars(select(StockLevel))}


def _ledger_matches_levels(database) -> None:
    # One session at a time: on SQLite every transaction takes the write lock up front.
    levels = _levels(database)
    with database.session() as session:
        assert inventory.ledger_totals(session) == levels


def _has(actual: dict, **expected) -> bool:
    return actual.items() >= expected.items()


def _outbox_rows(database, sku: str) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(StockOutbox).where(StockOutbox.sku == sku)) or 0


def _detail_message(response) -> str:
    detail = response.json()["detail"]
    message = detail["message"] if isinstance(detail, dict) else detail
    assert isinstance(message, str) and message
    return message


# -- locations ----------------------------------------------------------------------------------------


def test_locations_keep_the_contract_shape_and_expose_the_routing_fields(api):
    created = api.post("/locations", json=AMS, headers=STAFF)
    assert created.status_code == 201, created.text
    assert created.json() == {
        **AMS,
        "country": "NL",
        "priority": 100,
        "active": True,
        "group": "",
        "ship_from_store": False,
        "daily_order_capacity": None,
        "cost_base_minor": 0,
        "cost_per_km_minor": 0,
        "address_line1": "",
        "address_line2": "",
        "city": "",
        "phone": "",
        "email": "",
    }
    store = {
        **AMS,
        "location_id": "UTR-STORE",
        "kind": "store",
        "group": "randstad",
        "ship_from_store": True,
        "daily_order_capacity": 40,
        "cost_base_minor": 250,
        "cost_per_km_minor": 3,
    }
    assert api.post("/locations", json=store, headers=STAFF).status_code == 201
    # A contract-shaped update leaves the routing fields alone.
    contract_shaped = {**AMS, "location_id": "UTR-STORE", "name": "Utrecht", "kind": "store"}
    renamed = api.post("/locations", json=contract_shaped, headers=STAFF)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Utrecht"
    assert renamed.json()["ship_from_store"] is True and renamed.json()["daily_order_capacity"] == 40
    # The sender address on its carrier labels: set like any field, kept by a contract-shaped update.
    sender = {"address_line1": "Oudegracht 100", "city": "Utrecht", "email": "utr@example.org"}
    addressed = api.post("/locations", json={**contract_shaped, **sender}, headers=STAFF)
    assert {key: addressed.json()[key] for key in sender} == sender
    assert api.post("/locations", json=contract_shaped, headers=STAFF).json()["city"] == "Utrecht"
    listed = api.get("/locations", headers=STAFF).json()
    assert [loc["location_id"] for loc in listed] == ["AMS", "UTR-STORE"]
    assert listed[1]["group"] == "randstad" and listed[1]["cost_per_km_minor"] == 3
    assert api.get("/locations/UTR-STORE", headers=STAFF).json()["kind"] == "store"
    assert api.get("/locations/NOPE", headers=STAFF).status_code == 404


def test_put_replaces_or_creates_a_location(api):
    body = {k: v for k, v in AMS.items() if k != "location_id"}
    created = api.put("/locations/RTM", json={**body, "daily_order_capacity": 10}, headers=STAFF)
    assert created.status_code == 201, created.text
    assert created.json()["location_id"] == "RTM" and created.json()["daily_order_capacity"] == 10
    replaced = api.put("/locations/RTM", json=body, headers=STAFF)
    assert replaced.status_code == 200
    assert replaced.json()["daily_order_capacity"] is None  # the body is the whole location
    mismatch = api.put("/locations/RTM", json={**body, "location_id": "AMS"}, headers=STAFF)
    assert mismatch.status_code == 422 and "does not match" in _detail_message(mismatch)
    assert api.put("/locations/bad id", json=body, headers=STAFF).status_code == 422


@pytest.mark.parametrize(
    "change",
    [
        {"daily_order_capacity": -1},
        {"daily_order_capacity": 2.5},
        {"cost_base_minor": -5},
        {"cost_per_km_minor": "3"},
        {"ship_from_store": "maybe"},
        {"group": "g" * 65},
        {"country": "N1"},
        {"postcode": "x" * 33},
        {"priority": 10**12},
        {"colour": "red"},
    ],
)
def test_bad_location_fields_get_422(api, change):
    response = api.post("/locations", json={**AMS, **change}, headers=STAFF)
    assert response.status_code == 422, response.text
    _detail_message(response)


# -- receipts and adjustments -------------------------------------------------------------------------


def test_a_receipt_adds_stock_with_a_ledger_row_and_an_outbox_row(api, database):
    _location(api, "AMS")
    body = {"location_id": "AMS", "sku": "MUG", "quantity": 7, "reason": "inbound", "reference": "PO-1001"}
    response = api.post("/inventory/receipts", json=body, headers=STAFF)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "sku": "MUG",
        "location_id": "AMS",
        "on_hand": 7,
        "reserved": 0,
        "safety_stock": 0,
        "available": 7,
        "held": 0,
    }
    assert _outbox_rows(database, "MUG") == 1
    assert _receive(api, "AMS", "MUG", 3)["on_hand"] == 10
    assert _outbox_rows(database, "MUG") == 2
    with database.session() as session:
        rows = session.scalars(select(StockMovement).order_by(StockMovement.id)).all()
    assert [(r.kind, r.on_hand_delta, r.reason) for r in rows] == [
        ("receipt", 7, "inbound (ref PO-1001)"),
        ("receipt", 3, "receipt"),
    ]
    _ledger_matches_levels(database)


def test_goods_a_customer_brought_back_are_restocked_as_a_return(api, database):
    _location(api, "AMS")
    body = {"location_id": "AMS", "sku": "MUG", "quantity": 1, "reason": "RMA-7", "kind": "return"}
    assert api.post("/inventory/receipts", json=body, headers=STAFF).status_code == 201
    assert api.post("/inventory/receipts", json={**body, "kind": "gift"}, headers=STAFF).status_code == 422
    with database.session() as session:
        [row] = session.scalars(select(StockMovement)).all()
    assert (row.kind, row.on_hand_delta) == ("return", 1)
    _ledger_matches_levels(database)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"quantity": 0}, 422),
        ({"quantity": -2}, 422),
        ({"quantity": 1.5}, 422),
        ({"quantity": "5"}, 422),
        ({"quantity": True}, 422),
        ({"quantity": 10**10}, 422),
        ({"location_id": "NOPE"}, 422),
        ({"sku": ""}, 422),
        ({"reason": ""}, 422),
    ],
)
def test_bad_receipts_get_a_4xx_with_a_message(api, database, change, status):
    _location(api, "AMS")
    body = {"location_id": "AMS", "sku": "MUG", "quantity": 1, **change}
    response = api.post("/inventory/receipts", json=body, headers=STAFF)
    assert response.status_code == status, response.text
    _detail_message(response)
    assert _levels(database) == {}


def test_an_adjustment_below_reserved_is_409_with_the_numbers(api, database):
    _location(api, "AMS")
    _receive(api, "AMS", "MUG", 5)
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"MUG": 4}, "order-webshop-1")
        uow.commit()
    adjust = {"location_id": "AMS", "sku": "MUG", "delta": -2, "reason": "damaged"}
    refused = api.post("/inventory/adjustments", json=adjust, headers=STAFF)
    assert refused.status_code == 409
    assert _has(refused.json()["detail"], on_hand=5, reserved=4, delta=-2)
    _detail_message(refused)
    done = api.post("/inventory/adjustments", json={**adjust, "delta": -1}, headers=STAFF)
    assert done.status_code == 201 and done.json()["on_hand"] == 4
    with database.session() as session:
        kinds = session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["receipt", "reservation", "adjustment"]
    _ledger_matches_levels(database)


# -- transfers ----------------------------------------------------------------------------------------


def test_a_transfer_moves_stock_in_one_transaction_with_two_ledger_rows(api, database):
    _location(api, "AMS")
    _location(api, "UTR")
    _receive(api, "AMS", "MUG", 10)
    outbox_before = _outbox_rows(database, "MUG")
    response = _transfer(api, "AMS", "UTR", "MUG", 4)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sku"] == "MUG" and body["quantity"] == 4
    assert (body["source"]["location_id"], body["source"]["on_hand"]) == ("AMS", 6)
    assert (body["destination"]["location_id"], body["destination"]["on_hand"]) == ("UTR", 4)
    assert _levels(database) == {("AMS", "MUG"): (6, 0), ("UTR", "MUG"): (4, 0)}
    with database.session() as session:
        moves = session.scalars(select(StockMovement).where(StockMovement.kind == "transfer")).all()
    assert sorted((m.location_id, m.on_hand_delta, m.reserved_delta) for m in moves) == [
        ("AMS", -4, 0),
        ("UTR", 4, 0),
    ]
    assert all("rebalance" in m.reason and "AMS -> UTR" in m.reason for m in moves)
    # One transaction, one SKU: one outbox row; delivery will send the ATP of committed stock.
    assert _outbox_rows(database, "MUG") == outbox_before + 1
    with database.session() as session:
        assert atp_by_sku(session, ["MUG"])["MUG"]["webshop"] == 10
    # And back again, into the existing record.
    assert _transfer(api, "UTR", "AMS", "MUG", 1).status_code == 201
    assert _levels(database) == {("AMS", "MUG"): (7, 0), ("UTR", "MUG"): (3, 0)}
    _ledger_matches_levels(database)


def test_a_transfer_never_moves_reserved_or_safety_stock(api, database):
    _location(api, "AMS")
    _location(api, "UTR")
    _receive(api, "AMS", "MUG", 10)
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"MUG": 5}, "order-webshop-1")
        uow.commit()
    safety = api.put("/inventory/MUG/locations/AMS", json={"safety_stock": 2}, headers=STAFF)
    assert safety.status_code == 200
    refused = _transfer(api, "AMS", "UTR", "MUG", 4)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert _has(detail, location_id="AMS", sku="MUG", requested=4, on_hand=10, reserved=5, safety_stock=2, available=3)
    assert "only 3 can move" in detail["message"]
    assert _levels(database) == {("AMS", "MUG"): (10, 5)}
    assert _transfer(api, "AMS", "UTR", "MUG", 3).status_code == 201
    assert _levels(database) == {("AMS", "MUG"): (7, 5), ("UTR", "MUG"): (3, 0)}
    _ledger_matches_levels(database)


def test_bad_transfers_get_a_4xx_with_a_message(api, database):
    _location(api, "AMS")
    _location(api, "UTR")
    _receive(api, "AMS", "MUG", 10)
    same = _transfer(api, "AMS", "AMS", "MUG", 1)
    assert same.status_code == 422 and "itself" in _detail_message(same)
    for source, destination in [("NOPE", "UTR"), ("AMS", "NOPE")]:
        unknown = _transfer(api, source, destination, "MUG", 1)
        assert unknown.status_code == 422 and "NOPE" in _detail_message(unknown)
    for quantity in (0, -1, 1.5, "2", None, True, 10**10):
        assert _transfer(api, "AMS", "UTR", "MUG", quantity).status_code == 422, quantity
    assert _transfer(api, "AMS", "UTR", "MUG", 1, reason="").status_code == 422
    no_stock = _transfer(api, "UTR", "AMS", "MUG", 1)
    assert no_stock.status_code == 409 and "holds no stock of MUG" in _detail_message(no_stock)
    unknown_sku = _transfer(api, "AMS", "UTR", "NOT-A-SKU", 1)
    assert unknown_sku.status_code == 409 and unknown_sku.json()["detail"]["available"] == 0
    assert _levels(database) == {("AMS", "MUG"): (10, 0)}
    _ledger_matches_levels(database)


def test_racing_transfers_never_move_more_than_is_free(database):
    """Threads race one-way transfers for scarce stock while others move stock both ways."""
    from tests.factories import add_location, stock

    for location_id in ("AMS", "UTR", "RTM"):
        add_location(database.session_factory, location_id)
    stock(database.session_factory, "AMS", {"HOT": 6})
    stock(database.session_factory, "UTR", {"BOTH": 20})
    stock(database.session_factory, "RTM", {"BOTH": 20})
    jobs = [("AMS", "UTR", "HOT")] * 16 + [("UTR", "RTM", "BOTH"), ("RTM", "UTR", "BOTH")] * 6
    start = threading.Barrier(len(jobs))

    def attempt(job: tuple[str, str, str]) -> bool:
        source, destination, sku = job
        start.wait()
        with UnitOfWork(database.session_factory) as uow:
            try:
                stock_ops.transfer(uow.session, source, destination, sku, 1, reason="race")
            except inventory.InsufficientStock:
                return False
            uow.commit()
            return True

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(attempt, jobs))
    assert sum(results[:16]) == 6
    assert all(results[16:])
    levels = _levels(database)
    assert levels[("AMS", "HOT")] == (0, 0) and levels[("UTR", "HOT")] == (6, 0)
    assert levels[("UTR", "BOTH")][0] + levels[("RTM", "BOTH")][0] == 40
    _ledger_matches_levels(database)


# -- safety stock -------------------------------------------------------------------------------------


def test_safety_stock_changes_available_and_channel_atp(api, database):
    _location(api, "AMS")
    _receive(api, "AMS", "MUG", 5)
    before = _outbox_rows(database, "MUG")
    response = api.put("/inventory/MUG/locations/AMS", json={"safety_stock": 2}, headers=STAFF)
    assert response.status_code == 200, response.text
    assert _has(response.json(), safety_stock=2, previous_safety_stock=0, available=3, warning=None)
    assert _outbox_rows(database, "MUG") == before + 1
    with database.session() as session:
        assert atp_by_sku(session, ["MUG"])["MUG"]["shopify"] == 3
    view = api.get("/inventory/MUG", headers=STAFF).json()
    assert view["available"] == 3 and view["channels"]["shopify"] == 3
    assert view["locations"][0]["safety_stock"] == 2
    # More than is unreserved is allowed: ATP floors at 0 and the answer says so.
    over = api.put("/inventory/MUG/locations/AMS", json={"safety_stock": 8}, headers=STAFF)
    assert over.status_code == 200
    assert over.json()["available"] == 0 and over.json()["previous_safety_stock"] == 2
    assert "available to promise never goes below 0" in over.json()["warning"]
    assert api.get("/inventory/MUG", headers=STAFF).json()["channels"]["webshop"] == 0


def test_bad_safety_stock_updates_get_a_4xx(api):
    _location(api, "AMS")
    _receive(api, "AMS", "MUG", 5)
    for value in (-1, 1.5, "2", None):
        response = api.put("/inventory/MUG/locations/AMS", json={"safety_stock": value}, headers=STAFF)
        assert response.status_code == 422, value
        _detail_message(response)
    for path in ("/inventory/MUG/locations/NOPE", "/inventory/NOT-A-SKU/locations/AMS"):
        response = api.put(path, json={"safety_stock": 1}, headers=STAFF)
        assert response.status_code == 404
        _detail_message(response)


# -- overview -----------------------------------------------------------------------------------------


def test_the_stock_overview_filters_sorts_and_pages(api, database):
    _location(api, "AMS")
    _location(api, "UTR")
    for location_id, sku, quantity in [
        ("UTR", "MUG-RED", 3),
        ("AMS", "MUG-RED", 8),
        ("AMS", "MUG-BLUE", 1),
        ("AMS", "PLATE", 4),
        ("UTR", "mug-lower", 2),
    ]:
        _receive(api, location_id, sku, quantity)
    api.put("/inventory/MUG-BLUE/locations/AMS", json={"safety_stock": 2}, headers=STAFF)

    def overview(**params):
        response = api.get("/inventory", params=params, headers=STAFF)
        assert response.status_code == 200, response.text
        return response.json()

    everything = overview()
    assert everything["count"] == 5
    assert [(r["sku"], r["location_id"]) for r in everything["data"]] == sorted(
        (r["sku"], r["location_id"]) for r in everything["data"]
    )
    first = everything["data"][0]
    assert set(first) == {"sku", "location_id", "on_hand", "reserved", "safety_stock", "available", "held"}
    mugs = overview(sku="MUG-")
    assert [(r["sku"], r["location_id"]) for r in mugs["data"]] == [
        ("MUG-BLUE", "AMS"),
        ("MUG-RED", "AMS"),
        ("MUG-RED", "UTR"),
    ]
    assert overview(sku="MUG%")["count"] == 0  # a prefix, not a pattern
    assert overview(location_id="UTR")["count"] == 2
    below = overview(below_safety="true")
    assert [(r["sku"], r["available"]) for r in below["data"]] == [("MUG-BLUE", 0)]
    assert overview(below_safety="false")["count"] == 4
    page = overview(limit=2, offset=2)
    assert page["count"] == 5 and page["data"] == everything["data"][2:4]
    assert overview(offset=10) == {"data": [], "count": 5}
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"below_safety": "maybe"}, {"location_id": "NOPE"}):
        response = api.get("/inventory", params=params, headers=STAFF)
        assert response.status_code == 422, params
        _detail_message(response)


# -- per-channel ATP ----------------------------------------------------------------------------------


def test_channel_atp_follows_each_channels_policy_and_shows_what_was_sent(api, database):
    _location(api, "AMS")
    _location(api, "UTR")
    _receive(api, "AMS", "MUG", 10)
    _receive(api, "UTR", "MUG", 6)
    api.put("/inventory/MUG/locations/UTR", json={"safety_stock": 1}, headers=STAFF)
    with UnitOfWork(database.session_factory) as uow:
        save_policy(uow.session, ChannelPolicy("bol", sells_from=("AMS",)))
        save_policy(uow.session, ChannelPolicy("shopify", safety_stock=2))
        sent_at = utcnow() - timedelta(minutes=5)
        uow.session.add(ChannelStockLevel(channel="bol", sku="MUG", quantity=9, sequence=1, sent_at=sent_at))
        uow.commit()
    view = api.get("/inventory/MUG", headers=STAFF)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["available"] == 15
    assert body["channels"] == {"shopify": 13, "woocommerce": 15, "bol": 10, "amazon": 15, "pos": 15, "webshop": 15}
    assert [loc["location_id"] for loc in body["locations"]] == ["AMS", "UTR"]
    assert {"location_id", "on_hand", "reserved", "available"} <= set(body["locations"][0])
    assert set(body["last_sent"]) == {"bol"}
    assert body["last_sent"]["bol"]["quantity"] == 9
    assert body["last_sent"]["bol"]["sent_at"].startswith(sent_at.strftime("%Y-%m-%dT%H:%M"))
    # A transfer out of AMS lowers bol's ATP and no one else's.
    assert _transfer(api, "AMS", "UTR", "MUG", 4).status_code == 201
    channels = api.get("/inventory/MUG", headers=STAFF).json()["channels"]
    assert channels["bol"] == 6 and channels["webshop"] == 15 and channels["shopify"] == 13
    assert api.get("/inventory/NOT-A-SKU", headers=STAFF).status_code == 404


# -- reorder hints ------------------------------------------------------------------------------------


def _ship(database, location_id: str, sku: str, quantity: int, order_id: str, days_ago: float) -> None:
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, location_id, {sku: quantity}, order_id)
        inventory.ship(uow.session, location_id, {sku: quantity}, order_id)
        uow.session.execute(
            update(StockMovement)
            .where(StockMovement.order_id == order_id)
            .values(created_at=utcnow() - timedelta(days=days_ago))
        )
        uow.commit()


def test_the_forecast_reads_velocity_from_the_ledger(api, database):
    _location(api, "AMS")
    _location(api, "UTR")
    _receive(api, "AMS", "MUG", 60)
    _receive(api, "UTR", "MUG", 5)
    _ship(database, "AMS", "MUG", 20, "order-webshop-1", days_ago=10)
    _ship(database, "AMS", "MUG", 8, "order-webshop-2", days_ago=2)
    _ship(database, "AMS", "MUG", 20, "order-webshop-3", days_ago=60)  # outside a 28-day window
    api.put("/inventory/MUG/locations/AMS", json={"safety_stock": 2}, headers=STAFF)

    response = api.get("/inventory/MUG/forecast", headers=STAFF)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["window_days"], body["lead_time_days"], body["cover_days"]) == (28, 7, 28)
    ams, utr = body["locations"]
    # AMS: 28 shipped in 28 days, 12 on hand, 2 safety stock: 10 sellable, 1 a day.
    assert ams == {
        "location_id": "AMS",
        "on_hand": 12,
        "reserved": 0,
        "safety_stock": 2,
        "available": 10,
        "shipped_in_window": 28,
        "velocity_per_day": 1.0,
        "days_of_cover": 10.0,
        "reorder_point": 9,
        "reorder_now": False,
        "suggested_quantity": 0,
    }
    assert _has(
        utr,
        location_id="UTR",
        shipped_in_window=0,
        velocity_per_day=0.0,
        days_of_cover=None,
        reorder_point=0,
        reorder_now=False,
    )
    assert _has(body["total"], shipped_in_window=28, available=15, days_of_cover=15.0)

    longer = api.get("/inventory/MUG/forecast", params={"lead_time_days": 14}, headers=STAFF).json()
    # Reorder point 14 + 2 = 16 ≥ 12: order up to 1 x (14 + 28) + 2 = 44, i.e. 32 more.
    assert _has(longer["locations"][0], reorder_point=16, reorder_now=True, suggested_quantity=32)

    wide = api.get("/inventory/MUG/forecast", params={"window_days": 90}, headers=STAFF).json()
    assert wide["locations"][0]["shipped_in_window"] == 48
    assert wide["locations"][0]["velocity_per_day"] == round(48 / 90, 4)

    for params in (
        {"window_days": 0},
        {"window_days": 366},
        {"window_days": "abc"},
        {"window_days": 1.5},
        {"lead_time_days": -1},
        {"cover_days": 0},
    ):
        refused = api.get("/inventory/MUG/forecast", params=params, headers=STAFF)
        assert refused.status_code == 422, params
        _detail_message(refused)
    assert api.get("/inventory/NOT-A-SKU/forecast", headers=STAFF).status_code == 404


def test_every_stock_endpoint_needs_the_staff_token(api):
    for method, path in [
        ("GET", "/locations"),
        ("GET", "/locations/AMS"),
        ("PUT", "/locations/AMS"),
        ("POST", "/inventory/receipts"),
        ("POST", "/inventory/transfers"),
        ("GET", "/inventory"),
        ("PUT", "/inventory/MUG/locations/AMS"),
        ("GET", "/inventory/MUG/forecast"),
    ]:
        assert api.request(method, path, json={}).status_code == 401, (method, path)
