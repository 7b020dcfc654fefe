"""Staff confirmations while the rest of the engine keeps working: a confirmation waits for the
shipment's workflow to record the step, and nothing the API holds while it waits may stop the
worker (or anyone else) from writing. On SQLite one open transaction is the whole database's write
lock: this is the test that would freeze."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import System

WAREHOUSE = "AMS"
ANSWER_WITHIN = 20.0  # seconds; a frozen engine never answers, a working one in well under a second


def _order(system: System, sku: str) -> str:
    response = system.client.post(
        "/orders",
        json={
            "channel": "webshop",
            "external_id": uuid.uuid4().hex[:12],
            "currency": "EUR",
            "lines": [{"sku": sku, "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
            "shipping_address": {"name": "Sem", "city": "Amsterdam", "country": "NL"},
            "payment_method": "pm_card_visa",
        },
    )
    assert response.status_code == 202, response.text
    order_id: str = response.json()["order_id"]
    return order_id


def _waiting_for_pick(system: System, order_id: str) -> str:
    shipment_id = f"shipment-{order_id}-{WAREHOUSE}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = system.client.get(f"/shipments/{shipment_id}")
        if response.status_code == 200 and response.json()["next_step"] == "pick":
            return shipment_id
        time.sleep(0.2)
    raise AssertionError(f"{shipment_id} never waited for its pick")


def test_confirmations_at_once_leave_the_engine_writing_and_answering(staff_system: System):
    system = staff_system
    sku = f"CONF-{uuid.uuid4().hex[:8].upper()}"
    system.stock(sku, 10, WAREHOUSE)
    shipments = [_waiting_for_pick(system, _order(system, sku)) for _ in range(4)]

    with (
        httpx.Client(base_url=system.api, headers=system.client.headers, timeout=ANSWER_WITHIN) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        picks = [
            pool.submit(client.post, f"/shipments/{shipment_id}/picked", json={"location_id": WAREHOUSE})
            for shipment_id in shipments
        ]
        # While the confirmations wait for their workflows: a stock write and the health check.
        write = pool.submit(
            client.post,
            "/inventory/adjustments",
            json={"location_id": WAREHOUSE, "sku": sku, "delta": 1, "reason": "receipt"},
        )
        health = [pool.submit(client.get, "/health") for _ in range(3)]
        answers = [pick.result() for pick in picks]
        assert write.result().status_code == 201, write.result().text
        assert [check.result().status_code for check in health] == [200, 200, 200]

    assert [(a.status_code, a.json()["status"], a.json()["next_step"]) for a in answers] == [
        (200, "PICKED", "pack")
    ] * len(shipments)
    # The engine goes on afterwards: the next step of each is taken as well.
    for shipment_id in shipments:
        packed = system.client.post(f"/shipments/{shipment_id}/packed", json={"location_id": WAREHOUSE})
        assert packed.status_code == 200 and packed.json()["status"] == "PACKED", packed.text
    assert system.client.get("/health").status_code == 200
