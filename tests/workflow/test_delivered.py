"""Delivered, with a real worker: an order ships, Sendcloud reports its parcel in transit and then
delivered, the order's workflow hears of it and its returns window now counts from the delivery
(domain.carrier_events.returns_window_closes_at); a return is then taken as usual."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from contracts.order_workflow import OrderState
from integrations.carriers.sendcloud import webhooks as sendcloud
from sandboxes import sendcloud as sendcloud_sandbox
from sandboxes.server import serve
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import Engine, api_client, running_engine
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow

TOKEN = "delivered-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "delivered-sendcloud-secret"
WINDOW = timedelta(days=14)


def _order() -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"DLV-{next_id()}",
        "currency": "EUR",
        "lines": [{"sku": "TEE", "quantity": 2, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
        "shipping_address": {
            "name": "Sam",
            "line1": "Oudegracht 1",
            "postcode": "3511 AA",
            "city": "Utrecht",
            "country": "NL",
        },
        "payment_method": "pm_card_visa",
    }


def _report(tracking: str, status_id: int, message: str, at: datetime) -> bytes:
    millis = int(at.timestamp() * 1000)
    return json.dumps(
        {
            "action": "parcel_status_changed",
            "timestamp": millis,
            "carrier_status_change_timestamp": millis,
            "parcel": {"id": 4242, "tracking_number": tracking, "status": {"id": status_id, "message": message}},
        }
    ).encode()


async def _webhook(api: TestClient, raw: bytes) -> Any:
    headers = {sendcloud.SIGNATURE_HEADER: sendcloud.sign(SECRET, raw), "Content-Type": "application/json"}
    response = await asyncio.to_thread(api.post, "/webhooks/sendcloud", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _state_when(
    engine: Engine, order_id: str, ready: Callable[[OrderState], bool], timeout: float = 30
) -> OrderState:
    handle = engine.client.get_workflow_handle(order_id)
    deadline = time.monotonic() + timeout
    while True:
        state = await handle.query(OrderWorkflow.state)
        if ready(state) or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.1)


async def handle_state(engine: Engine, order_id: str) -> OrderState:
    return await engine.client.get_workflow_handle(order_id).query(OrderWorkflow.state)


async def test_a_delivery_reported_by_sendcloud_moves_the_returns_window(temporal_client, database):
    # The parcel gets its label and tracking number from Sendcloud (its sandbox), as in production.
    with serve(sendcloud_sandbox.create_app(secret_key=SECRET)) as sendcloud_url:
        await _delivered_then_returned(temporal_client, database, sendcloud_url)


async def _delivered_then_returned(temporal_client: Any, database: Any, sendcloud_url: str) -> None:
    async with running_engine(
        temporal_client,
        database,
        return_window=WINDOW,
        sendcloud_public_key=sendcloud_sandbox.PUBLIC_KEY,
        sendcloud_secret_key=SECRET,
        sendcloud_api_url=sendcloud_url,
    ) as engine:
        add_location(database.session_factory, "AMS", address_line1="Keizersgracht 1", city="Amsterdam")
        stock(database.session_factory, "AMS", {"TEE": 5})
        with api_client(engine, TOKEN) as api:
            placed = await asyncio.to_thread(api.post, "/orders", json=_order(), headers=STAFF)
            assert placed.status_code == 202, placed.text
            order_id = placed.json()["order_id"]
            await engine.wait_for_status(order_id, "SHIPPED")
            shipped = await _state_when(engine, order_id, lambda state: state.window_closes_at is not None)
            assert shipped.window_closes_at is not None and shipped.delivered_at is None
            from_shipping = shipped.window_closes_at

            view = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            [shipment] = view["shipments"]
            handed_over = datetime.fromisoformat(shipment["shipped_at"])
            moving = await _webhook(api, _report(shipment["tracking_number"], 3, "Sorted", handed_over))
            assert (moving["outcome"], moving["status"]) == ("moved", "IN_TRANSIT")
            await asyncio.sleep(0.5)  # a moment passes between handover and delivery
            delivered = await _webhook(
                api, _report(shipment["tracking_number"], 11, "Delivered", datetime.now(handed_over.tzinfo))
            )
            assert (delivered["outcome"], delivered["status"]) == ("moved", "DELIVERED")

            state = await _state_when(engine, order_id, lambda state: state.delivered_at is not None)
            delivered_at = datetime.fromisoformat(delivered["order_delivered_at"])
            assert state.delivered_at == delivered_at
            assert state.window_closes_at == delivered_at + WINDOW
            assert state.window_closes_at > from_shipping  # counted from the delivery, not the shipping

            # Told again (Sendcloud redelivers): nothing moves.
            again = await _webhook(api, _report(shipment["tracking_number"], 11, "Delivered", delivered_at))
            assert again["outcome"] == "repeated"
            assert (await handle_state(engine, order_id)).window_closes_at == delivered_at + WINDOW

            taken = await asyncio.to_thread(
                api.post, f"/orders/{order_id}/returns", json={"lines": [{"sku": "TEE", "quantity": 1}]}, headers=STAFF
            )
            assert taken.status_code == 202, taken.text
            assert taken.json()["status"] == "REQUESTED" and taken.json()["rma"].startswith("RMA-")
            await record_history(engine.client.get_workflow_handle(order_id), "delivered_then_returned")
