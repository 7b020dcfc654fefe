"""HTTP → Temporal → database: an order split over two warehouses, paid through the sandbox gateway
(which captures several times, as Stripe's multicapture), gets one invoice per parcel, each equal to
its capture, adding up to the order; a marketplace-style order paid on the channel is invoiced as it
ships. Documents are read back through the staff API and the customer's tracking link."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

from tests.e2e.conftest import System


def _eur(minor: int) -> dict[str, object]:
    return {"amount_minor": minor, "currency": "EUR"}


def _order(system: System, lines: list[tuple[str, int, int]], **extra: object) -> str:
    body = {
        "channel": "webshop",
        "external_id": f"INV-{uuid.uuid4().hex[:10]}",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": _eur(price)} for sku, quantity, price in lines],
        "shipping": _eur(495),
        "shipping_address": {"name": "Sam Tester", "line1": "Damrak 1", "city": "Amsterdam", "country": "NL"},
        "customer_email": "sam@example.org",
        **extra,
    }
    response = system.client.post("/orders", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["order_id"])


def _documents(system: System, order_id: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    documents: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        documents = system.client.get(f"/orders/{order_id}/invoices").json()["documents"]
        if len(documents) >= count:
            return documents
        time.sleep(0.2)
    raise AssertionError(f"{order_id} has {len(documents)} documents, expected {count}")


def test_a_split_order_with_multicapture_gets_an_invoice_per_parcel_equal_to_its_capture(system: System):
    mug, lamp = f"MUG-{uuid.uuid4().hex[:6]}", f"LAMP-{uuid.uuid4().hex[:6]}"
    system.stock(mug, 5, "AMS")
    system.stock(lamp, 5, "RTM")
    order_id = _order(system, [(mug, 2, 1250), (lamp, 1, 3999)], payment_method="pm_card_visa")

    order = system.wait_for_status(order_id, "SHIPPED", "COMPLETED", timeout=60)
    invoices = _documents(system, order_id, 2)

    assert len(order["shipments"]) == 2
    assert sorted(doc["shipment_id"] for doc in invoices) == sorted(s["shipment_id"] for s in order["shipments"])
    captures = sorted(
        int(Decimal(event["detail"].split()[0]) * 100)
        for event in order["events"]
        if event["kind"] == "payment_captured"
    )
    assert sorted(doc["gross_minor"] for doc in invoices) == captures
    assert sum(captures) == order["total"]["amount_minor"] == 2 * 1250 + 3999 + 495
    assert [doc["number"] for doc in invoices] == sorted(doc["number"] for doc in invoices)

    pdf = system.client.get(invoices[0]["links"]["pdf"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    tracking = system.client.get(order["tracking_url"])
    assert all(doc["number"] in tracking.text for doc in invoices)


def test_an_order_paid_on_the_channel_is_invoiced_as_it_ships(system: System):
    tee = f"TEE-{uuid.uuid4().hex[:6]}"
    system.stock(tee, 5, "AMS")
    order_id = _order(system, [(tee, 3, 1999)], payment_collected=True)

    system.wait_for_status(order_id, "SHIPPED", "COMPLETED", timeout=60)
    [invoice] = _documents(system, order_id, 1)
    assert (invoice["kind"], invoice["gross_minor"]) == ("invoice", 3 * 1999 + 495)
