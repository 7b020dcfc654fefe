"""Every staff endpoint checks the caller's role, and a warehouse user works only at their own
locations (issue 14, items 1 and 2), in-process on SQLite and PostgreSQL: refusals happen before any
service runs, so no workflow engine is needed (its address is a free port: nothing answers)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from contracts.shipments import EscalationInput
from domain.return_lifecycle import rma_number
from persistence.models import ReturnRecord, ShipmentRecord
from persistence.read_model import escalations
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import make_order, stock
from tests.integration.screens import app_for
from tests.integration.staff_members import ADMIN, ADMIN_TOKEN, Staff, staff  # noqa: F401 (a fixture)

POS_KEY = "pos-key-for-the-role-tests"
STEPS: dict[str, dict[str, object]] = {
    "picked": {},
    "packed": {"parcels": 1},
    "shipped": {"carrier": "PostNL", "tracking_number": "3S0001"},
    "ready": {},
    "collected": {},
}


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    with TestClient(app_for(database, ADMIN_TOKEN, pos_api_key=POS_KEY)) as client:
        yield client


def _shipment(db, location_id: str, *, transfer_to: str | None = None, age: int = 1) -> str:
    """An order with one open shipment from `location_id` (to be collected at `transfer_to`)."""
    order = make_order([("MUG", 1, 1000)])
    now = datetime.now(UTC)
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, now - timedelta(hours=age + 1))
        shipment_id = f"shipment-{order.order_id}-{location_id}"
        uow.session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=order.order_id,
                location_id=location_id,
                status="RESERVED",
                lines={"MUG": 1},
                transfer_to=transfer_to,
                created_at=now - timedelta(hours=age),
            )
        )
        uow.commit()
    return shipment_id


@pytest.fixture
def sites(database, staff: Staff) -> Staff:  # noqa: F811
    """AMS and UTR (made with the staff, who work there) with stock."""
    stock(database.session_factory, "AMS", {"MUG": 10})
    stock(database.session_factory, "UTR", {"MUG": 10})
    return staff


def test_a_support_member_reads_orders_and_shipments_but_confirms_no_step(api, database, sites):
    as_support = sites.support.headers
    shipment = _shipment(database, "AMS")
    assert api.get("/orders", headers=as_support).status_code == 200
    assert api.get(f"/shipments/{shipment}", headers=as_support).status_code == 200
    assert api.get("/inventory/MUG", headers=as_support).status_code == 200
    for step, body in STEPS.items():
        confirmation: dict[str, object] = {"location_id": "AMS", **body}
        refused = api.post(f"/shipments/{shipment}/{step}", json=confirmation, headers=as_support)
        assert refused.status_code == 403, (step, refused.text)
        assert "support role may not" in refused.json()["detail"]
    receipt = {"location_id": "AMS", "sku": "MUG", "quantity": 1}
    assert api.post("/inventory/receipts", json=receipt, headers=as_support).status_code == 403
    assert api.put("/channels/webshop", json={}, headers=as_support).status_code == 403
    assert api.get("/kpis", headers=as_support).status_code == 403
    assert api.get("/audit", headers=as_support).status_code == 403
    assert api.get("/metrics", headers=as_support).status_code == 403
    assert api.post("/codec/decode", json={"payloads": []}, headers=as_support).status_code == 403


def test_a_warehouse_user_reads_no_orders_and_changes_no_settings(api, database, sites):
    as_ams = sites.warehouse_ams.headers
    assert api.get("/orders", headers=as_ams).status_code == 403
    assert api.post("/orders/order-webshop-1/cancel", headers=as_ams).status_code == 403
    a_return = {"lines": [{"sku": "MUG", "quantity": 1}]}
    assert api.post("/orders/order-webshop-1/returns", json=a_return, headers=as_ams).status_code == 403
    transfer = {"from_location_id": "AMS", "to_location_id": "UTR", "sku": "MUG", "quantity": 1}
    assert api.post("/inventory/transfers", json=transfer, headers=as_ams).status_code == 403
    safety = api.put("/inventory/MUG/locations/AMS", json={"safety_stock": 1}, headers=as_ams)
    assert safety.status_code == 403
    assert api.get("/locations", headers=as_ams).status_code == 200


def test_a_warehouse_user_of_ams_gets_403_on_utr_s_shipments(api, database, sites):
    as_support = sites.support.headers
    as_ams = sites.warehouse_ams.headers
    theirs = _shipment(database, "UTR")
    ours = _shipment(database, "AMS", age=2)
    collected_here = _shipment(database, "UTR", transfer_to="AMS", age=3)

    assert api.get(f"/shipments/{theirs}", headers=as_ams).status_code == 403
    assert api.get(f"/shipments/{theirs}/label", headers=as_ams).status_code == 403
    assert api.get(f"/shipments/{theirs}/return-label", headers=as_ams).status_code == 403
    for step, body in STEPS.items():
        for where in ("UTR", "AMS"):  # the shipment is UTR's whatever the body says
            confirmation: dict[str, object] = {"location_id": where, **body}
            refused = api.post(f"/shipments/{theirs}/{step}", json=confirmation, headers=as_ams)
            assert refused.status_code == 403, (step, where, refused.text)
    assert api.post(f"/shipments/{theirs}/delivered", headers=as_ams).status_code == 403
    pick_list = api.get("/shipments", params={"location_id": "UTR"}, headers=as_ams)
    assert pick_list.status_code == 403 and "UTR is not one of your locations" in pick_list.json()["detail"]
    assert api.get("/escalations", params={"location_id": "UTR"}, headers=as_ams).status_code == 403
    now = datetime.now(UTC)
    with UnitOfWork(database.session_factory) as uow:
        for shipment_id, location in ((theirs, "UTR"), (ours, "AMS")):
            order_id = shipment_id.removeprefix("shipment-").rsplit("-", 1)[0]
            late = EscalationInput(order_id, shipment_id, location, "pick", now - timedelta(hours=1), shipment_id, now)
            escalations.raise_once(uow.session, late)
        uow.commit()
    late_here = api.get("/escalations", headers=as_ams).json()
    assert late_here["count"] == 1 and [row["shipment_id"] for row in late_here["data"]] == [ours]
    assert api.get("/escalations", headers=as_support).json()["count"] == 2

    # Without location_id: their locations' shipments only (shipped from AMS, or collected there).
    listed = api.get("/shipments", headers=as_ams)
    assert listed.status_code == 200
    assert {row["shipment_id"] for row in listed.json()["data"]} == {ours, collected_here}
    everything = api.get("/shipments", headers=ADMIN).json()["data"]
    assert {row["shipment_id"] for row in everything} == {ours, collected_here, theirs}
    assert api.get(f"/shipments/{ours}", headers=as_ams).status_code == 200
    assert api.get(f"/shipments/{collected_here}", headers=as_ams).status_code == 200

    # Their own shipment, but the body says they confirm from UTR: refused too.
    elsewhere = api.post(f"/shipments/{ours}/picked", json={"location_id": "UTR"}, headers=as_ams)
    assert elsewhere.status_code == 403
    # From AMS it passes every check and reaches the shipment's workflow (here: no engine, 503).
    taken = api.post(f"/shipments/{ours}/picked", json={"location_id": "AMS"}, headers=as_ams)
    assert taken.status_code == 503, taken.text


def test_stock_counts_at_another_location_are_403_and_the_ledger_names_who_moved_stock(api, database, sites):
    as_ams = sites.warehouse_ams.headers
    at_utr = {"location_id": "UTR", "sku": "MUG", "quantity": 2, "reason": "delivery"}
    assert api.post("/inventory/receipts", json=at_utr, headers=as_ams).status_code == 403
    count = {"location_id": "UTR", "sku": "MUG", "delta": -1, "reason": "count"}
    assert api.post("/inventory/adjustments", json=count, headers=as_ams).status_code == 403

    at_ams = {"location_id": "AMS", "sku": "MUG", "quantity": 2, "reason": "delivery"}
    assert api.post("/inventory/receipts", json=at_ams, headers=as_ams).status_code == 201
    count_ams = {"location_id": "AMS", "sku": "MUG", "delta": -1, "reason": "count"}
    assert api.post("/inventory/adjustments", json=count_ams, headers=as_ams).status_code == 201
    transfer = {"from_location_id": "AMS", "to_location_id": "UTR", "sku": "MUG", "quantity": 3, "reason": "rebalance"}
    assert api.post("/inventory/transfers", json=transfer, headers=ADMIN).status_code == 201
    assert api.put("/inventory/MUG/locations/UTR", json={"safety_stock": 4}, headers=ADMIN).status_code == 200

    ledger = api.get("/inventory/MUG/ledger", headers=as_ams)
    assert ledger.status_code == 200
    moves = [(row["location_id"], row["kind"], row["on_hand_delta"], row["actor"]) for row in ledger.json()["data"]]
    assert moves == [  # newest first; the test's stock came in through no person
        ("UTR", "safety_stock", 0, "admin token"),
        ("UTR", "transfer", 3, "admin token"),
        ("AMS", "transfer", -3, "admin token"),
        ("AMS", "adjustment", -1, sites.warehouse_ams.label),
        ("AMS", "receipt", 2, sites.warehouse_ams.label),
        ("UTR", "receipt", 10, None),
        ("AMS", "receipt", 10, None),
    ]
    assert ledger.json()["data"][0]["reason"] == "safety stock 0 -> 4"
    only_utr = api.get("/inventory/MUG/ledger", params={"location_id": "UTR", "limit": 1}, headers=ADMIN).json()
    assert only_utr["count"] == 3 and [row["kind"] for row in only_utr["data"]] == ["safety_stock"]

    # The SKU's dashboard page shows the same moves with who made them.
    assert api.post("/dashboard/login", data={"token": ADMIN_TOKEN, "next": "/dashboard"}).status_code == 200
    page = api.get("/dashboard/stock/MUG").text
    ledger_table = page[page.index('id="ledger"') : page.index("</table>", page.index('id="ledger"'))]
    assert ledger_table.count(sites.warehouse_ams.label) == 2 and ledger_table.count("admin token") == 3
    assert "safety stock 0 -&gt; 4" in ledger_table


def test_a_channel_key_and_no_token_are_still_refused_as_before(api, database, sites):
    shipment = _shipment(database, "AMS")
    assert api.get(f"/shipments/{shipment}").status_code == 401
    assert api.post(f"/shipments/{shipment}/picked", json={"location_id": "AMS"}).status_code == 401
    assert api.get("/audit", headers={"Authorization": "Bearer oms_pat_not-a-token"}).status_code == 401
    pos = {"Authorization": f"Bearer {POS_KEY}"}
    assert api.get(f"/shipments/{shipment}", headers=pos).status_code == 403
    assert api.post(f"/shipments/{shipment}/picked", json={"location_id": "AMS"}, headers=pos).status_code == 403
    assert api.get("/orders/order-pos-1", headers=pos).status_code == 404  # its own channel's orders: still open
    assert api.get("/orders/order-webshop-1", headers=pos).status_code == 403


def _received_return(db, location_id: str) -> str:
    """A return of the lifecycle received at `location_id` (no workflow: the refusals come first)."""
    order = make_order([("MUG", 1, 1000)])
    now = datetime.now(UTC)
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, now)
        return_id = f"return-{order.order_id}-1"
        uow.session.add(
            ReturnRecord(
                return_id=return_id,
                order_id=order.order_id,
                status="RECEIVED",
                state="RECEIVED",
                rma=rma_number(order.order_id, 1),
                sequence=1,
                lines={"MUG": 1},
                currency="EUR",
                location_id=location_id,
                received={"MUG": {"as_new": 1}},
                short={},
                created_at=now,
            )
        )
        uow.commit()
    return return_id


def test_returns_are_support_s_to_decide_and_the_receiving_warehouse_s_to_dispose_of(api, database, sites):
    as_support, as_ams = sites.support.headers, sites.warehouse_ams.headers
    at_utr = _received_return(database, "UTR")
    assert api.get("/returns", headers=as_support).status_code == 200
    assert api.get("/returns", headers=as_ams).status_code == 200
    assert api.get(f"/returns/{at_utr}", headers=as_ams).json()["state"] == "RECEIVED"
    assert api.get("/returns").status_code == 401

    receipt = {"location_id": "UTR", "lines": [{"sku": "MUG", "quantity": 1}]}
    refused = api.post(f"/returns/{at_utr}/receive", json=receipt, headers=as_ams)
    assert refused.status_code == 403 and "UTR is not one of your locations" in refused.json()["detail"]
    assert api.post(f"/returns/{at_utr}/receive", json=receipt, headers=as_support).status_code == 403
    dispose = {"lines": [{"sku": "MUG", "quantity": 1, "disposition": "restock"}]}
    assert api.post(f"/returns/{at_utr}/dispose", json=dispose, headers=as_ams).status_code == 403
    assert api.post(f"/returns/{at_utr}/dispose", json=dispose, headers=as_support).status_code == 403
    for decision in ("approve", "reject", "cancel"):
        assert api.post(f"/returns/{at_utr}/{decision}", headers=as_ams).status_code == 403, decision
    assert api.get("/returns/RMA-NOTHI-NGHER-1", headers=as_support).status_code == 404
    assert api.get("/returns?state=LOST", headers=as_support).status_code == 422
    bad = {"lines": [{"sku": "MUG", "quantity": 1, "disposition": "burn"}]}
    assert api.post(f"/returns/{at_utr}/dispose", json=bad, headers=ADMIN).status_code == 422
