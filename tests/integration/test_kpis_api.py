"""GET /kpis reads the read model: orders by status, processing time, fulfilment cost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import load_settings
from domain.status import OrderStatus
from ops.temporal_dev import free_port
from persistence.models import ReturnRecord, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order

STAFF = {"Authorization": "Bearer kpi-token"}


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url, admin_token="kpi-token", temporal_address=f"localhost:{free_port()}"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _order(db, received: datetime, shipped_after: timedelta | None, cost: int | None, channel: str = "webshop") -> str:
    order = make_order([("A", 1, 1000)], channel=channel)
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, received)
        if shipped_after is not None:
            uow.session.add(
                ShipmentRecord(
                    shipment_id=f"shipment-{order.order_id}-AMS",
                    order_id=order.order_id,
                    location_id="AMS",
                    status="SHIPPED",
                    lines={"A": 1},
                    fulfilment_cost_minor=cost,
                    created_at=received,
                )
            )
            uow.session.flush()
            order_store.set_status(uow.session, order.order_id, OrderStatus.SHIPPED, at=received + shipped_after)
        uow.commit()
    return order.order_id


def test_kpis_count_orders_and_measure_processing_time_and_cost(api, database):
    now = datetime.now(UTC)
    _order(database, now - timedelta(hours=3), timedelta(minutes=10), 450)
    _order(database, now - timedelta(hours=2), timedelta(minutes=30), 600)
    _order(database, now - timedelta(hours=1), None, None)
    _order(database, now - timedelta(hours=1), timedelta(minutes=20), 500, channel="pos")
    _order(database, now - timedelta(days=30), timedelta(minutes=5), 999)  # outside the window

    body = api.get("/kpis", headers=STAFF).json()
    assert body["orders"] == 4 and body["orders_by_status"] == {"SHIPPED": 3, "RECEIVED": 1}
    assert body["processing_time"]["count"] == 3
    assert (body["processing_time"]["p50_seconds"], body["processing_time"]["max_seconds"]) == (1200.0, 1800.0)
    assert body["shipments"] == 3 and body["fulfilment_cost"] == [{"amount_minor": 1550, "currency": "EUR"}]

    webshop = api.get("/kpis", params={"channel": "webshop"}, headers=STAFF).json()
    assert webshop["orders"] == 3 and webshop["fulfilment_cost"] == [{"amount_minor": 1050, "currency": "EUR"}]


def test_kpis_refuse_a_backwards_window_and_need_a_token(api):
    assert api.get("/kpis").status_code == 401
    backwards = {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert api.get("/kpis", params=backwards, headers=STAFF).status_code == 422
    assert api.get("/kpis", params={"since": "2026-01-01T00:00:00"}, headers=STAFF).status_code == 422  # no zone


def _return(db, order_id: str, lines: dict[str, int], refund_minor: int, at: datetime) -> None:
    with UnitOfWork(db.session_factory) as uow:
        uow.session.add(
            ReturnRecord(
                return_id=f"return-{order_id}-{at.timestamp()}",
                order_id=order_id,
                status="REFUNDED",
                lines=lines,
                currency="EUR",
                refund_minor=refund_minor,
                created_at=at,
            )
        )
        uow.commit()


def test_kpis_report_returns_accepted_in_the_window(api, database):
    now = datetime.now(UTC)
    shop = _order(database, now - timedelta(days=20), timedelta(hours=1), 450)
    pos = _order(database, now - timedelta(days=2), timedelta(hours=1), 450, channel="pos")
    _return(database, shop, {"A": 1}, 1000, now - timedelta(days=1))  # an old order, returned this week
    _return(database, pos, {"A": 2, "B": 1}, 0, now - timedelta(hours=3))  # refunded by the channel
    _return(database, shop, {"A": 1}, 1000, now - timedelta(days=9))  # outside the window

    body = api.get("/kpis", headers=STAFF).json()
    assert body["returns"] == {"count": 2, "units": 4, "refunded": [{"amount_minor": 1000, "currency": "EUR"}]}
    webshop = api.get("/kpis", params={"channel": "webshop"}, headers=STAFF).json()
    assert webshop["returns"]["count"] == 1 and webshop["returns"]["units"] == 1


def test_kpis_report_the_skus_most_written_off_with_their_reasons(api, database):
    from domain.return_lifecycle import StockEffects, WriteOff
    from persistence.guarded_writes.held_stock import scrap_held
    from persistence.guarded_writes.return_stock import book_dispositions
    from tests.factories import add_location

    add_location(database.session_factory, "AMS")
    now = datetime.now(UTC)
    shop = _order(database, now - timedelta(days=20), timedelta(hours=1), 450)
    pos = _order(database, now - timedelta(days=2), timedelta(hours=1), 450, channel="pos")

    def book(order_id: str, effects: StockEffects, at: datetime) -> None:
        with UnitOfWork(database.session_factory) as uow:
            book_dispositions(
                uow.session,
                order_id=order_id,
                return_id=f"return-{order_id}-1",
                location_id="AMS",
                effects=effects,
                at=at,
            )
            uow.commit()

    book(shop, StockEffects(written_off=(WriteOff("A", 2, "returned damaged"), WriteOff("B", 1, "stained"))), now)
    book(pos, StockEffects(written_off=(WriteOff("A", 1, "smells of smoke"),), held={"C": 3}), now)
    book(shop, StockEffects(written_off=(WriteOff("D", 5, "returned damaged"),)), now - timedelta(days=9))  # outside
    with UnitOfWork(database.session_factory) as uow:
        scrap_held(uow.session, "AMS", "C", 2, at=now, reason="could not be repaired", actor="wim@shop.test")
        uow.commit()

    body = api.get("/kpis", headers=STAFF).json()
    assert body["defects"] == [
        {"sku": "A", "units": 3, "reasons": {"returned damaged": 2, "smells of smoke": 1}},
        {"sku": "C", "units": 2, "reasons": {"could not be repaired": 2}},
        {"sku": "B", "units": 1, "reasons": {"stained": 1}},
    ]
    webshop = api.get("/kpis", params={"channel": "webshop"}, headers=STAFF).json()
    assert webshop["defects"] == [
        {"sku": "A", "units": 2, "reasons": {"returned damaged": 2}},
        {"sku": "B", "units": 1, "reasons": {"stained": 1}},
    ]
