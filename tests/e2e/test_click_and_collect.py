"""Click & collect through HTTP, as store staff drive it: the pick list, refusals, picked, ready,
collected, and the money taken when the customer walks out with it."""

from __future__ import annotations

import time
import uuid

from tests.e2e.conftest import System


def _open_shipment(system: System, location_id: str, order_id: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = system.client.get("/shipments", params={"location_id": location_id, "open": "true"}).json()
        mine = [s for s in listed["data"] if s["order_id"] == order_id]
        if mine:
            return mine[0]
        time.sleep(0.2)
    raise AssertionError(f"no open shipment for {order_id} at {location_id}")


def test_a_click_and_collect_order_confirmed_by_store_staff(staff_system: System):
    system = staff_system
    store, sku = f"UTR-{uuid.uuid4().hex[:6].upper()}", f"CC-{uuid.uuid4().hex[:8].upper()}"
    system.stock(sku, 3, store, store=True)
    response = system.client.post(
        "/orders",
        json={
            "channel": "webshop",
            "external_id": uuid.uuid4().hex[:12],
            "currency": "EUR",
            "lines": [{"sku": sku, "quantity": 2, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}],
            "shipping_address": {"name": "Noor", "city": "Utrecht", "country": "NL"},
            "payment_method": "pm_card_visa",
            "pickup_location_id": store,
        },
    )
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    shipment = _open_shipment(system, store, order_id)
    url = f"/shipments/{shipment['shipment_id']}"
    assert (shipment["kind"], shipment["lines"]) == ("collect", {sku: 2})

    too_early = system.client.post(f"{url}/collected", json={"location_id": store})
    assert too_early.status_code == 409 and too_early.json()["detail"]["refusal"] == "out_of_order"
    elsewhere = system.client.post(f"{url}/picked", json={"location_id": "AMS"})
    assert elsewhere.status_code == 422 and elsewhere.json()["detail"]["refusal"] == "wrong_location"
    too_many = system.client.post(f"{url}/picked", json={"location_id": store, "lines": [{"sku": sku, "quantity": 3}]})
    assert too_many.status_code == 422, too_many.text
    assert system.client.post(f"{url}/picked", json={"location_id": "x", "bogus": 1}).status_code == 422
    assert system.client.post("/shipments/shipment-nope/picked", json={"location_id": store}).status_code == 404

    picked = system.client.post(f"{url}/picked", json={"location_id": store, "confirmed_by": "lotte"})
    assert picked.status_code == 200, picked.text
    assert (picked.json()["status"], picked.json()["next_step"]) == ("PICKED", "ready")
    ready = system.client.post(f"{url}/ready", json={"location_id": store})
    assert ready.json()["status"] == "READY_FOR_PICKUP" and ready.json()["ready_at"]
    collected = system.client.post(f"{url}/collected", json={"location_id": store})
    assert collected.status_code == 200 and collected.json()["status"] == "COLLECTED"

    order = system.wait_for_status(order_id, "SHIPPED")
    assert [s["status"] for s in order["shipments"]] == ["COLLECTED"]
    payment = order["payments"][0]
    assert (payment["status"], payment["captured"]["amount_minor"]) == ("CAPTURED", 2500)
    level = system.client.get(f"/inventory/{sku}").json()
    assert [(loc["on_hand"], loc["reserved"]) for loc in level["locations"]] == [(1, 0)]
    assert system.client.post(f"/orders/{order_id}/cancel").status_code == 409
    assert system.client.post(f"{url}/collected", json={"location_id": store}).status_code == 409
