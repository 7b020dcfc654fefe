"""Labels through Sendcloud (its sandbox over real HTTP): packing asks for the label, the carrier and
tracking come from it and are never typed; while Sendcloud is away the label is pending and late
labels escalate, then it recovers; a refusal holds the shipment for a person with Sendcloud's words."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.shipments import ShipmentProgress
from persistence.models import Escalation, ShipmentLabel, ShipmentRecord
from persistence.read_model import orders as order_store
from sandboxes import sendcloud as sandbox
from sandboxes.server import serve
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import Engine, api_client, running_engine
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

TOKEN = "labels-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SENDER: dict[str, Any] = {"address_line1": "Keizersgracht 1", "city": "Amsterdam", "email": "ams@example.org"}


@pytest.fixture
def sendcloud_url() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _sendcloud(url: str, **more: Any) -> dict[str, Any]:
    return {
        "sendcloud_public_key": sandbox.PUBLIC_KEY,
        "sendcloud_secret_key": sandbox.SECRET_KEY,
        "sendcloud_api_url": url,
        **more,
    }


async def _sandbox(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.request(method, url, json=body)
    answer.raise_for_status()
    return answer.json()


async def _call(api: TestClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return await asyncio.to_thread(api.request, method, path, headers=STAFF, **kwargs)


async def _progress(engine: Engine, shipment_id: str, until: Any, timeout: float = 30) -> ShipmentProgress:
    deadline = time.monotonic() + timeout
    while True:
        try:
            progress = await engine.client.get_workflow_handle(shipment_id).query(ShipmentWorkflow.progress)
        except Exception:
            progress = None
        if progress is not None and until(progress):
            return progress
        assert time.monotonic() < deadline, f"{shipment_id}: {progress}"
        await asyncio.sleep(0.1)


async def _packed_order(engine: Engine, api: TestClient, order: Any = None) -> tuple[str, str]:
    db = engine.db
    add_location(db.session_factory, "AMS", **SENDER)
    stock(db.session_factory, "AMS", {"A": 5})
    order_id, _ = await start_order(engine.client, engine.settings, order or make_order([("A", 2, 1500)]))
    shipment_id = f"shipment-{order_id}-AMS"
    await _progress(engine, shipment_id, lambda p: p.next_step == "pick")
    picked = await _call(api, "POST", f"/shipments/{shipment_id}/picked", json={"location_id": "AMS"})
    assert picked.status_code == 200, picked.text
    unweighed = await _call(api, "POST", f"/shipments/{shipment_id}/packed", json={"location_id": "AMS"})
    assert unweighed.status_code == 422 and "parcel_weights_grams" in unweighed.text
    packed = await _call(
        api,
        "POST",
        f"/shipments/{shipment_id}/packed",
        json={"location_id": "AMS", "parcels": 2, "parcel_weights_grams": [1320, 480]},
    )
    assert packed.status_code == 200, packed.text
    return order_id, shipment_id


async def test_packing_prints_the_label_and_the_shipment_ships_with_its_tracking(
    temporal_client, database, sendcloud_url
):
    async with running_engine(temporal_client, database, auto_confirm=False, **_sendcloud(sendcloud_url)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            ready = await _progress(engine, shipment_id, lambda p: p.label == "ready")
            assert ready.carrier == "postnl" and ready.tracking_number.startswith("3S")

            shown = (await _call(api, "GET", f"/shipments/{shipment_id}")).json()
            assert (shown["label"], shown["tracking_number"]) == ("ready", ready.tracking_number)
            label = await _call(api, "GET", shown["label_url"])
            assert label.headers["content-type"] == "application/pdf"
            assert label.content.startswith(b"%PDF") and ready.tracking_number.encode() in label.content

            typed = await _call(
                api,
                "POST",
                f"/shipments/{shipment_id}/shipped",
                json={"location_id": "AMS", "carrier": "DHL", "tracking_number": "JD000"},
            )
            assert typed.status_code == 422 and "leave them out" in typed.text
            shipped = await _call(api, "POST", f"/shipments/{shipment_id}/shipped", json={"location_id": "AMS"})
            assert shipped.status_code == 200, shipped.text
            assert (shipped.json()["carrier"], shipped.json()["tracking_number"]) == ("postnl", ready.tracking_number)
            await engine.wait_for_status(order_id, "SHIPPED")

            made = await _call(api, "POST", f"/shipments/{shipment_id}/return-label")
            assert made.status_code == 201, made.text
            again = await _call(api, "POST", f"/shipments/{shipment_id}/return-label")
            assert again.status_code == 200 and again.json()["tracking_number"] == made.json()["tracking_number"]
            returned = await _call(api, "GET", made.json()["label_url"])
            assert returned.content.startswith(b"%PDF")

    with database.session() as session:
        record = session.get(ShipmentRecord, shipment_id)
        assert (record.carrier, record.tracking_number, record.parcel_weights_grams) == (
            "postnl",
            ready.tracking_number,
            [1320, 480],
        )
        assert session.scalar(select(ShipmentLabel.purpose).where(ShipmentLabel.purpose == "outbound"))
        kinds = [event.kind for event in order_store.order_events(session, order_id)]
        assert "label_printed" in kinds and "shipped" in kinds
    announced = await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments")
    assert announced["announce_calls"] == 1
    assert [p["weight"]["value"] for p in announced["data"][0]["parcels"]] == ["1.320", "0.480"]


async def test_an_outage_leaves_the_label_pending_escalates_it_and_recovers(
    temporal_client, sqlite_database, sendcloud_url
):
    await _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": True})
    settings = _sendcloud(sendcloud_url, sla_overrides={"warehouse": {"label": 1}})
    async with running_engine(temporal_client, sqlite_database, auto_confirm=False, **settings) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            escalated = await _progress(engine, shipment_id, lambda p: "label" in p.escalated)
            assert escalated.label == "pending" and escalated.tracking_number is None

            listed = (await _call(api, "GET", "/shipments", params={"location_id": "AMS", "open": "true"})).json()
            [row] = [s for s in listed["data"] if s["shipment_id"] == shipment_id]
            assert row["label"] == "pending" and "HTTP 503" in row["label_problem"]
            early = await _call(api, "POST", f"/shipments/{shipment_id}/shipped", json={"location_id": "AMS"})
            assert early.status_code == 409 and "label is pending" in early.text
            late = (await _call(api, "GET", "/escalations", params={"location_id": "AMS"})).json()
            assert [(e["shipment_id"], e["step"]) for e in late["data"]] == [(shipment_id, "label")]

            await _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": False})
            ready = await _progress(engine, shipment_id, lambda p: p.label == "ready", timeout=90)
            shipped = await _call(api, "POST", f"/shipments/{shipment_id}/shipped", json={"location_id": "AMS"})
            assert shipped.json()["tracking_number"] == ready.tracking_number
            await engine.wait_for_status(order_id, "SHIPPED")
            await record_history(engine.client.get_workflow_handle(shipment_id), "shipment_labelled_after_an_outage")
    with sqlite_database.session() as session:
        [row] = session.scalars(select(Escalation).where(Escalation.shipment_id == shipment_id))
        assert row.step == "label" and row.resolved_at is not None
        assert session.get(ShipmentRecord, shipment_id).label_problem is None


async def test_a_refused_address_holds_the_shipment_with_sendclouds_words(
    temporal_client, sqlite_database, sendcloud_url
):
    order = make_order([("A", 1, 1500)])
    order = replace(order, shipping_address=replace(order.shipping_address, postcode="ABC"))
    async with running_engine(
        temporal_client, sqlite_database, auto_confirm=False, **_sendcloud(sendcloud_url)
    ) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api, order)
            refused = await _progress(engine, shipment_id, lambda p: p.label == "refused")
            assert "to_address/postal_code: Enter a valid postal code" in refused.label_problem
            assert "label" in refused.escalated
            shown = (await _call(api, "GET", f"/shipments/{shipment_id}")).json()
            assert shown["label"] == "refused" and "valid postal code" in shown["label_problem"]
            assert (await _call(api, "GET", f"/shipments/{shipment_id}/label")).status_code == 404
            by_hand = await _call(
                api,
                "POST",
                f"/shipments/{shipment_id}/shipped",
                json={"location_id": "AMS", "carrier": "PostNL", "tracking_number": "3SHAND0001"},
            )
            assert by_hand.status_code == 200, by_hand.text
            await engine.wait_for_status(order_id, "SHIPPED")
    assert (await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments"))["data"] == []


async def test_a_location_that_confirms_by_itself_ships_with_a_sendcloud_label(
    temporal_client, sqlite_database, sendcloud_url
):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=True, **_sendcloud(sendcloud_url)) as engine:
        add_location(db.session_factory, "AMS", **SENDER)
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1500)]))
        await engine.wait_for_status(order_id, "SHIPPED")
    with db.session() as session:
        record = session.get(ShipmentRecord, f"shipment-{order_id}-AMS")
        assert record.carrier == "postnl" and record.tracking_number.startswith("3S")
        assert record.label_status == "ready"
        label = session.get(ShipmentLabel, (record.shipment_id, "outbound"))
        assert label.tracking_number == record.tracking_number


async def test_a_location_that_confirms_by_itself_without_a_sender_address_ships_unlabelled(
    temporal_client, sqlite_database, sendcloud_url
):
    """Development's self-confirming locations (production refuses them) do not stall on a label the
    carrier cannot make: the location ships with its own provider and the timeline says why."""
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=True, **_sendcloud(sendcloud_url)) as engine:
        add_location(db.session_factory, "AMS")  # no address line, no city
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1500)]))
        await engine.wait_for_status(order_id, "SHIPPED")
    with db.session() as session:
        record = session.get(ShipmentRecord, f"shipment-{order_id}-AMS")
        assert (record.carrier, record.label_status) == ("SANDBOX-POST", None)
        skipped = [e.detail for e in order_store.order_events(session, order_id) if e.kind == "label_skipped"]
        assert len(skipped) == 1 and "sender AMS" in skipped[0]
    assert (await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments"))["data"] == []


async def test_a_cancel_while_the_label_is_pending_withdraws_the_shipment(
    temporal_client, sqlite_database, sendcloud_url
):
    await _sandbox("POST", f"{sendcloud_url}/_sandbox/outage", {"down": True})
    async with running_engine(
        temporal_client, sqlite_database, auto_confirm=False, **_sendcloud(sendcloud_url)
    ) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            await _progress(engine, shipment_id, lambda p: p.label == "pending")
            cancelled = await _call(api, "POST", f"/orders/{order_id}/cancel", json={"reason": "changed my mind"})
            assert cancelled.status_code == 202, cancelled.text
            await engine.wait_for_status(order_id, "CANCELLED")
    with sqlite_database.session() as session:
        record = session.get(ShipmentRecord, shipment_id)
        assert (record.status, record.tracking_number) == ("WITHDRAWN", None)
        assert session.get(ShipmentLabel, (shipment_id, "outbound")) is None


async def test_a_parcel_labelled_by_sendcloud_is_followed_to_the_door(temporal_client, database, sendcloud_url):
    """The whole journey through the carrier: the label at pack, the tracking from Sendcloud, then
    the parcel status webhooks Sendcloud's sandbox builds (en route, delivered), signed as Sendcloud
    signs them, move the shipment on; the order shows when it arrived and its returns window runs
    from then."""
    async with running_engine(temporal_client, database, auto_confirm=False, **_sendcloud(sendcloud_url)) as engine:
        with api_client(engine, TOKEN) as api:
            order_id, shipment_id = await _packed_order(engine, api)
            await _progress(engine, shipment_id, lambda p: p.label == "ready")
            shipped = await _call(api, "POST", f"/shipments/{shipment_id}/shipped", json={"location_id": "AMS"})
            assert shipped.status_code == 200, shipped.text
            await engine.wait_for_status(order_id, "SHIPPED")
            deadline = time.monotonic() + 20
            while True:  # the read model says SHIPPED a moment before the workflow opens its window
                shipped_state = await engine.client.get_workflow_handle(order_id).query(OrderWorkflow.state)
                if shipped_state.window_closes_at is not None or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert shipped_state.window_closes_at is not None
            announced = (await _sandbox("GET", f"{sendcloud_url}/_sandbox/shipments"))["data"]
            parcel = announced[0]["parcels"][0]  # the shipment's tracking number is its first parcel's

            statuses = []
            for _ in range(3):  # ready to send → en route → delivered, as the carrier scans it
                event = (await _sandbox("POST", f"{sendcloud_url}/_sandbox/parcels/{parcel['id']}/advance", {}))[
                    "event"
                ]
                raw = json.dumps(event).encode()
                signature = hmac.new(sandbox.SECRET_KEY.encode(), raw, hashlib.sha256).hexdigest()
                answer = await asyncio.to_thread(
                    api.post,
                    "/webhooks/sendcloud",
                    content=raw,
                    headers={"Content-Type": "application/json", "Sendcloud-Signature": signature},
                )
                assert answer.status_code == 200, answer.text
                statuses.append((await _call(api, "GET", f"/shipments/{shipment_id}")).json()["status"])
            assert statuses[-1] == "DELIVERED" and "IN_TRANSIT" in statuses, statuses

            order = (await _call(api, "GET", f"/orders/{order_id}")).json()
            assert order["delivered_at"] is not None and order["shipments"][0]["delivered_at"] == order["delivered_at"]
            deadline = time.monotonic() + 20
            while True:  # the order's workflow hears of the delivery: its window now counts from it
                state = await engine.client.get_workflow_handle(order_id).query(OrderWorkflow.state)
                if state.delivered_at is not None or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert state.delivered_at is not None
            assert state.window_closes_at > shipped_state.window_closes_at
