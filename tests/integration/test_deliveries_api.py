"""Where parcels are after the handover, through the real app on SQLite and PostgreSQL: Sendcloud's
signed parcel status webhook moves a shipment SHIPPED → IN_TRANSIT → DELIVERED, a redelivery changes
nothing, an older report never moves it back; the order gets its delivered_at once its last parcel
to the customer arrives; staff can mark a parcel delivered; the tracking page and the KPIs show it.

The order's workflow is not running here (its run is "gone"): telling it of the delivery finds no
workflow, which is what happens after its returns window closed, and changes nothing."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from activities.orders import OrderActivities
from api.main import create_app
from config import load_settings
from contracts.order_records import ChangeStatusInput
from domain.carrier_events import CarrierEvent
from domain.fulfilment import ShipmentStatus
from domain.status import OrderStatus
from integrations.carriers.sendcloud import webhooks as sendcloud
from persistence.models import CarrierEventRecord, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.deliveries import Deliveries
from services.tracking import make_token
from services.unit_of_work import units_on
from tests.factories import make_order
from tests.fakes import FakeWorkflows

TOKEN = "deliveries-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "sendcloud-secret-key"
TRACKING_SECRET = "deliveries-tracking-secret"
DOCUMENTED = json.loads(
    (Path(__file__).parents[1] / "unit" / "data" / "sendcloud" / "parcel_status_changed.json").read_text()
)
SHIPPED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


@pytest.fixture
def api(database, temporal_server) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        tracking_secret=TRACKING_SECRET,
        temporal_address=temporal_server.address,
        sendcloud_public_key="sendcloud-public-key",
        sendcloud_secret_key=SECRET,
        webhook_body_limit=8192,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _shipped_order(db, parcels: dict[str, str], *, carrier: str = "PostNL", status: str = "SHIPPED") -> str:
    """An order SHIPPED in the read model with a parcel per tracking number ({tracking: location})."""
    order = make_order([("TEE", 1, 1000)])
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, SHIPPED - timedelta(hours=2))
        for tracking, location in parcels.items():
            uow.session.add(
                ShipmentRecord(
                    shipment_id=f"shipment-{order.order_id}-{location}",
                    order_id=order.order_id,
                    location_id=location,
                    status=status,
                    carrier=carrier,
                    tracking_number=tracking,
                    lines={"TEE": 1},
                    created_at=SHIPPED - timedelta(hours=1),
                    shipped_at=SHIPPED if status == "SHIPPED" else None,
                )
            )
        uow.session.flush()
        if status == "SHIPPED":
            order_store.set_status(uow.session, order.order_id, OrderStatus.SHIPPED, at=SHIPPED)
        uow.commit()
    return order.order_id


def _report(status_id: int, message: str, tracking: str, at: datetime, parcel_id: int = 7) -> dict[str, Any]:
    payload = copy.deepcopy(DOCUMENTED)
    payload["timestamp"] = payload["carrier_status_change_timestamp"] = int(at.timestamp() * 1000)
    payload["parcel"].update(
        id=parcel_id, tracking_number=tracking, external_shipment_id=None, status={"id": status_id, "message": message}
    )
    return payload


def _send(api: TestClient, payload: dict[str, Any] | bytes, secret: str = SECRET, **headers: str) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signed = {sendcloud.SIGNATURE_HEADER: sendcloud.sign(secret, raw), "Content-Type": "application/json"}
    return api.post("/webhooks/sendcloud", content=raw, headers={**signed, **headers})


def _order(api: TestClient, order_id: str) -> dict[str, Any]:
    response = api.get(f"/orders/{order_id}", headers=STAFF)
    assert response.status_code == 200, response.text
    return response.json()


def _events(db) -> int:
    with UnitOfWork(db.session_factory) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(CarrierEventRecord)) or 0)


def test_sendcloud_moves_a_parcel_in_transit_then_delivered_and_the_order_is_delivered(api, database):
    order_id = _shipped_order(database, {"3SPOSTNL0001": "AMS"})
    on_its_way = _send(api, _report(3, "En route to sorting center", "3SPOSTNL0001", SHIPPED + timedelta(hours=5)))
    assert on_its_way.status_code == 200, on_its_way.text
    assert (on_its_way.json()["outcome"], on_its_way.json()["status"]) == ("moved", "IN_TRANSIT")
    assert _order(api, order_id)["delivered_at"] is None

    delivered_at = SHIPPED + timedelta(days=1)
    delivered = _send(api, _report(11, "Delivered", "3SPOSTNL0001", delivered_at))
    assert delivered.status_code == 200, delivered.text
    assert (delivered.json()["outcome"], delivered.json()["status"]) == ("moved", "DELIVERED")

    view = _order(api, order_id)
    assert datetime.fromisoformat(view["delivered_at"]) == delivered_at
    [shipment] = view["shipments"]
    assert shipment["status"] == "DELIVERED" and datetime.fromisoformat(shipment["delivered_at"]) == delivered_at
    kinds = [event["kind"] for event in view["events"]]
    assert kinds[-3:] == ["shipment_in_transit", "shipment_delivered", "delivered"]
    staff_view = api.get(f"/shipments/{shipment['shipment_id']}", headers=STAFF).json()
    assert staff_view["status"] == "DELIVERED" and staff_view["delivered_at"] is not None


def test_a_redelivered_report_changes_nothing_and_an_older_one_never_moves_a_parcel_back(api, database):
    order_id = _shipped_order(database, {"3SPOSTNL0002": "AMS"})
    delivered = _report(11, "Delivered", "3SPOSTNL0002", SHIPPED + timedelta(days=1))
    assert _send(api, delivered).json()["outcome"] == "moved"
    events_before, timeline_before = _events(database), _order(api, order_id)["events"]

    again = _send(api, delivered)
    assert again.status_code == 200 and again.json()["outcome"] == "repeated", again.text
    assert _events(database) == events_before
    assert _order(api, order_id)["events"] == timeline_before

    late_scan = _send(api, _report(3, "En route to sorting center", "3SPOSTNL0002", SHIPPED + timedelta(hours=2)))
    assert (late_scan.json()["outcome"], late_scan.json()["status"]) == ("kept", "DELIVERED")
    failed_after = _send(api, _report(80, "Unable to deliver", "3SPOSTNL0002", SHIPPED + timedelta(days=2)))
    assert (failed_after.json()["outcome"], failed_after.json()["status"]) == ("kept", "DELIVERED")
    view = _order(api, order_id)
    assert view["shipments"][0]["status"] == "DELIVERED" and view["delivered_at"] is not None
    assert [e["kind"] for e in view["events"]].count("carrier_event") == 2  # kept on the timeline


def test_an_order_is_delivered_only_once_its_last_parcel_arrives(api, database):
    order_id = _shipped_order(database, {"3SFIRST": "AMS", "3SSECOND": "UTR"})
    first = _send(api, _report(11, "Delivered", "3SFIRST", SHIPPED + timedelta(days=1), parcel_id=1))
    assert first.json()["order_delivered_at"] is None
    assert _order(api, order_id)["delivered_at"] is None
    last_at = SHIPPED + timedelta(days=2)
    last = _send(api, _report(11, "Delivered", "3SSECOND", last_at, parcel_id=2))
    assert datetime.fromisoformat(last.json()["order_delivered_at"]) == last_at
    assert datetime.fromisoformat(_order(api, order_id)["delivered_at"]) == last_at


def test_bad_signatures_are_401_and_nothing_is_recorded(api, database):
    _shipped_order(database, {"3SSIGNED": "AMS"})
    payload = _report(11, "Delivered", "3SSIGNED", SHIPPED + timedelta(days=1))
    assert _send(api, payload, secret="not-the-secret").status_code == 401
    raw = json.dumps(payload).encode()
    assert api.post("/webhooks/sendcloud", content=raw).status_code == 401
    tampered = _send(api, payload, **{sendcloud.SIGNATURE_HEADER: sendcloud.sign(SECRET, raw + b" ")})
    assert tampered.status_code == 401
    assert _events(database) == 0


def test_an_oversized_body_is_413(api):
    payload = _report(11, "Delivered", "3SBIG", SHIPPED)
    payload["parcel"]["padding"] = "x" * 10_000
    assert _send(api, payload).status_code == 413


def test_malformed_bodies_are_4xx_never_5xx(api):
    assert _send(api, b"{not json").status_code == 400
    assert _send(api, b"[1, 2]").status_code == 400
    no_parcel = _send(api, {"action": "parcel_status_changed", "timestamp": 1764579600000})
    assert no_parcel.status_code == 422 and "parcel" in no_parcel.json()["detail"]["message"]
    bad_status = _report(11, "Delivered", "3SX", SHIPPED)
    bad_status["parcel"]["status"]["id"] = "eleven"
    assert _send(api, bad_status).status_code == 422
    no_time = _report(11, "Delivered", "3SX", SHIPPED)
    no_time["timestamp"] = no_time["carrier_status_change_timestamp"] = None
    assert _send(api, no_time).status_code == 422


def test_an_unknown_parcel_and_other_actions_are_acknowledged_and_ignored(api, database):
    unknown = _send(api, _report(11, "Delivered", "3SNOTOURS", SHIPPED))
    assert unknown.status_code == 200 and unknown.json()["outcome"] == "unknown_parcel", unknown.text
    other = _send(api, {"action": "integration_connected", "timestamp": 1764579600000, "integration": {"id": 1}})
    assert other.status_code == 200 and other.json()["outcome"] == "ignored"
    assert _events(database) == 0


def test_a_report_on_a_parcel_not_handed_over_is_kept_and_moves_nothing(api, database):
    order_id = _shipped_order(database, {"3SPACKED": "AMS"}, status="PACKED")
    early = _send(api, _report(3, "En route to sorting center", "3SPACKED", SHIPPED))
    assert (early.json()["outcome"], early.json()["status"]) == ("not_handed_over", "PACKED")
    assert _order(api, order_id)["shipments"][0]["status"] == "PACKED"


def test_staff_mark_a_parcel_delivered_without_a_carrier_integration(api, database):
    order_id = _shipped_order(database, {"TYPED-BY-HAND": "AMS"}, carrier="DHL")
    shipment_id = f"shipment-{order_id}-AMS"
    assert api.post(f"/shipments/{shipment_id}/delivered", json={}).status_code == 401
    assert api.post("/shipments/shipment-nope/delivered", json={}, headers=STAFF).status_code == 404
    before = {"delivered_at": (SHIPPED - timedelta(hours=1)).isoformat()}
    assert api.post(f"/shipments/{shipment_id}/delivered", json=before, headers=STAFF).status_code == 422
    future = {"delivered_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    assert api.post(f"/shipments/{shipment_id}/delivered", json=future, headers=STAFF).status_code == 422
    naive = {"delivered_at": "2026-12-01T10:00:00"}
    assert api.post(f"/shipments/{shipment_id}/delivered", json=naive, headers=STAFF).status_code == 422

    at = SHIPPED + timedelta(days=1, hours=3)
    marked = api.post(f"/shipments/{shipment_id}/delivered", json={"delivered_at": at.isoformat()}, headers=STAFF)
    assert marked.status_code == 200, marked.text
    assert (marked.json()["outcome"], marked.json()["status"]) == ("moved", "DELIVERED")
    assert datetime.fromisoformat(_order(api, order_id)["delivered_at"]) == at
    again = api.post(f"/shipments/{shipment_id}/delivered", json={}, headers=STAFF)
    assert again.status_code == 200 and again.json()["outcome"] == "kept"
    assert datetime.fromisoformat(_order(api, order_id)["delivered_at"]) == at

    packed_id = _shipped_order(database, {"NOT-YET": "AMS"}, status="PACKED")
    not_yet = api.post(f"/shipments/shipment-{packed_id}-AMS/delivered", json={}, headers=STAFF)
    assert not_yet.status_code == 409, not_yet.text


def test_the_tracking_page_says_delivered_with_the_date(api, database):
    order_id = _shipped_order(database, {"3SPAGE": "AMS"})
    page = api.get(f"/track/{make_token(TRACKING_SECRET, order_id)}")
    assert "Shipped" in page.text and "Delivered" not in page.text
    _send(api, _report(3, "En route to sorting center", "3SPAGE", SHIPPED + timedelta(hours=4)))
    assert "On its way" in api.get(f"/track/{make_token(TRACKING_SECRET, order_id)}").text
    delivered_at = SHIPPED + timedelta(days=1, hours=2)
    _send(api, _report(11, "Delivered", "3SPAGE", delivered_at))
    page = api.get(f"/track/{make_token(TRACKING_SECRET, order_id)}")
    day = f"{delivered_at.day} {delivered_at:%B %Y}"
    assert page.status_code == 200
    assert f"Your order was delivered on {day}." in page.text
    assert f"Delivered on {day}" in page.text


def test_kpis_give_the_delivery_time_per_carrier(api, database):
    hours = {"PostNL": [20, 30, 40, 50, 70], "DHL": [10]}
    for carrier, durations in hours.items():
        for n, duration in enumerate(durations):
            tracking = f"3S{carrier}{n}"
            _shipped_order(database, {tracking: "AMS"}, carrier=carrier)
            _send(api, _report(11, "Delivered", tracking, SHIPPED + timedelta(hours=duration), parcel_id=n))
    _shipped_order(database, {"3SSTILLGOING": "AMS"}, carrier="DHL")  # not delivered: not counted

    body = api.get("/kpis", params={"since": (SHIPPED - timedelta(days=1)).isoformat()}, headers=STAFF).json()
    by_carrier = {row["carrier"]: row for row in body["delivery_time"]}
    assert set(by_carrier) == {"PostNL", "DHL"}
    post = by_carrier["PostNL"]
    assert (post["count"], post["p50_seconds"], post["p90_seconds"]) == (5, 40 * 3600.0, 70 * 3600.0)
    assert (by_carrier["DHL"]["count"], by_carrier["DHL"]["p50_seconds"]) == (1, 10 * 3600.0)


def test_two_parcels_of_one_order_delivered_at_the_same_moment_both_count(database):
    """The order row is locked before the shipment's: neither report can miss that the other parcel
    arrived, so the order is delivered whichever commits second."""
    deliveries = Deliveries(units_on(database.session_factory), FakeWorkflows())
    for round_no in range(5):
        parcels = {f"3SRACE{round_no}A": "AMS", f"3SRACE{round_no}B": "UTR"}
        order_id = _shipped_order(database, parcels)
        barrier = threading.Barrier(len(parcels))

        def deliver(tracking: str, barrier: threading.Barrier = barrier) -> None:
            event = CarrierEvent(
                "sendcloud",
                f"race:{tracking}",
                SHIPPED + timedelta(days=1),
                ShipmentStatus.DELIVERED,
                tracking_number=tracking,
            )
            barrier.wait()
            asyncio.run(deliveries.report(event))

        with ThreadPoolExecutor(max_workers=len(parcels)) as pool:
            list(pool.map(deliver, parcels))
        with UnitOfWork(database.session_factory) as uow:
            record = order_store.get_order(uow.session, order_id)
            assert record is not None and record.delivered_at is not None, f"round {round_no}"
            assert [s.status for s in record.shipments] == ["DELIVERED", "DELIVERED"]


def test_a_parcel_delivered_before_everything_left_counts_once_the_order_ships(api, database):
    """The last parcel arrives while the order still settles its payment (IN_FULFILMENT): the step
    that records it SHIPPED finds every parcel delivered and sets the order's delivered_at."""
    order_id = _shipped_order(database, {"3SEARLY": "AMS"})
    with UnitOfWork(database.session_factory) as uow:
        order_store.set_status(uow.session, order_id, OrderStatus.IN_FULFILMENT, at=SHIPPED)
        uow.commit()
    delivered_at = SHIPPED + timedelta(hours=20)
    early = _send(api, _report(11, "Delivered", "3SEARLY", delivered_at))
    assert (early.json()["status"], early.json()["order_delivered_at"]) == ("DELIVERED", None)

    OrderActivities(database.session_factory).change_status(
        ChangeStatusInput(order_id, OrderStatus.SHIPPED, f"{order_id}:status-SHIPPED:1", SHIPPED + timedelta(days=1))
    )
    view = _order(api, order_id)
    assert datetime.fromisoformat(view["delivered_at"]) == delivered_at
    assert [e["kind"] for e in view["events"]].count("delivered") == 1


def test_refused_sendcloud_deliveries_are_counted_by_reason(api):
    def refused(reason: str) -> float:
        metrics = api.get("/metrics", headers=STAFF).text
        line = f'oms_webhook_rejections_total{{reason="{reason}",webhook="sendcloud"}}'
        return next((float(row.split()[-1]) for row in metrics.splitlines() if row.startswith(line)), 0.0)

    before = refused("bad_signature"), refused("unprocessable")
    assert _send(api, _report(11, "Delivered", "3SX", SHIPPED), secret="wrong").status_code == 401
    assert _send(api, {"action": "parcel_status_changed"}).status_code == 422
    assert (refused("bad_signature"), refused("unprocessable")) == (before[0] + 1, before[1] + 1)
