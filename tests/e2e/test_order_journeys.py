"""HTTP → Temporal → database, as a channel and a support person would drive it."""

from __future__ import annotations

import time
import uuid

from tests.e2e.conftest import SHOPIFY_SECRET, System
from tests.factories import shopify_payload, signed


def _sku() -> str:
    return f"E2E-{uuid.uuid4().hex[:8].upper()}"


def test_a_signed_shopify_order_reaches_shipped(system: System):
    sku_a, sku_b = _sku(), _sku()
    system.stock(sku_a, 10)
    system.stock(sku_b, 10)
    payload = shopify_payload([(sku_a, 2, "19.95"), (sku_b, 1, "5.00")])
    body, headers = signed(payload, SHOPIFY_SECRET)
    response = system.client.post("/webhooks/shopify", content=body, headers=headers)
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    assert order_id == f"order-shopify-{payload['id']}"

    order = system.wait_for_status(order_id, "SHIPPED")
    assert order["channel"] == "shopify" and order["external_id"] == str(payload["id"])
    assert order["total"] == {"amount_minor": 4490 + 495, "currency": "EUR"}
    assert [(line["sku"], line["quantity"], line["unit_price"]["amount_minor"]) for line in order["lines"]] == [
        (sku_a, 2, 1995),
        (sku_b, 1, 500),
    ]
    [shipment] = order["shipments"]
    assert shipment["location_id"] == "AMS" and shipment["tracking_number"] and shipment["status"] == "SHIPPED"
    inventory = system.client.get(f"/inventory/{sku_a}").json()
    assert inventory["locations"] == [
        {"location_id": "AMS", "on_hand": 8, "reserved": 0, "safety_stock": 0, "available": 8, "held": 0}
    ]

    _, again = signed(payload, SHOPIFY_SECRET)  # Shopify redelivers with a new webhook id
    duplicate = system.client.post("/webhooks/shopify", content=body, headers=again)
    assert duplicate.status_code == 202 and duplicate.json() == {"order_id": order_id, "duplicate": True}
    listed = system.client.get("/orders", params={"channel": "shopify", "sku": sku_a}).json()
    assert listed["count"] == 1 and listed["data"][0]["order_id"] == order_id

    cancel = system.client.post(f"/orders/{order_id}/cancel", json={"reason": "too late"})
    assert cancel.status_code == 409 and "return" in cancel.json()["detail"]


def test_a_bad_signature_is_refused_and_nothing_starts(system: System):
    payload = shopify_payload([(_sku(), 1, "10.00")])
    body, headers = signed(payload, "not-the-secret")
    assert system.client.post("/webhooks/shopify", content=body, headers=headers).status_code == 401
    headers.pop("X-Shopify-Hmac-Sha256")
    assert system.client.post("/webhooks/shopify", content=body, headers=headers).status_code == 401
    assert system.client.get(f"/orders/order-shopify-{payload['id']}").status_code == 404


def test_an_unknown_sku_is_held_then_released_to_shipped(system: System):
    sku = _sku()
    payload = shopify_payload([(sku, 1, "12.50")])
    body, headers = signed(payload, SHOPIFY_SECRET)
    order_id = system.client.post("/webhooks/shopify", content=body, headers=headers).json()["order_id"]
    held = system.wait_for_status(order_id, "ON_HOLD")
    assert sku in held["hold_reason"]

    system.stock(sku, 3)
    release = system.client.post(f"/orders/{order_id}/release", json={"note": "SKU created"})
    assert release.status_code == 202, release.text
    shipped = system.wait_for_status(order_id, "SHIPPED")
    assert shipped["hold_reason"] is None
    again = system.client.post(f"/orders/{order_id}/release")
    assert again.status_code == 409


def test_a_web_shop_order_on_hold_can_be_cancelled_once(system: System):
    external_id = uuid.uuid4().hex[:12]
    response = system.client.post(
        "/orders",
        json={
            "channel": "webshop",
            "external_id": external_id,
            "currency": "EUR",
            "lines": [{"sku": _sku(), "quantity": 1, "unit_price": {"amount_minor": 2500, "currency": "EUR"}}],
            "shipping_address": {
                "name": "Eva",
                "line1": "Oudegracht 1",
                "postcode": "3511 AB",
                "city": "Utrecht",
                "country": "NL",
            },
        },
    )
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    system.wait_for_status(order_id, "ON_HOLD")
    assert system.client.post(f"/orders/{order_id}/cancel", json={"reason": "customer asked"}).status_code == 202
    cancelled = system.wait_for_status(order_id, "CANCELLED")
    assert cancelled["cancelled_at"] and cancelled["shipments"] == []
    second = system.client.post(f"/orders/{order_id}/cancel")
    assert second.status_code == 409 and "already cancelled" in second.json()["detail"]


def _cancelled_on_shopify(system: System, payload: dict) -> dict:
    cancelled = {**payload, "cancelled_at": "2026-11-20T15:00:00+01:00", "cancel_reason": "customer"}
    body, headers = signed(cancelled, SHOPIFY_SECRET)
    headers["X-Shopify-Topic"] = "orders/cancelled"
    response = system.client.post("/webhooks/shopify", content=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


def test_an_order_cancelled_on_shopify_is_cancelled_here(system: System):
    held = shopify_payload([(_sku(), 1, "12.50")])  # unknown SKU: waits on hold
    body, headers = signed(held, SHOPIFY_SECRET)
    order_id = system.client.post("/webhooks/shopify", content=body, headers=headers).json()["order_id"]
    system.wait_for_status(order_id, "ON_HOLD")
    assert _cancelled_on_shopify(system, held) == {"order_id": order_id, "duplicate": False}
    cancelled = system.wait_for_status(order_id, "CANCELLED")
    assert "cancelled on Shopify (customer)" in [event["detail"] for event in cancelled["events"]]


def test_a_cancellation_that_overtakes_its_creation_still_records_the_order(system: System):
    sku = _sku()
    system.stock(sku, 5)
    never_seen = shopify_payload([(sku, 1, "9.99")])
    order_id = _cancelled_on_shopify(system, never_seen)["order_id"]
    cancelled = system.wait_for_status(order_id, "CANCELLED")
    assert cancelled["lines"][0]["sku"] == sku and cancelled["shipments"] == []
    assert system.client.get(f"/inventory/{sku}").json()["locations"][0]["reserved"] == 0
    body, headers = signed(never_seen, SHOPIFY_SECRET)  # the creation arriving late starts nothing
    late = system.client.post("/webhooks/shopify", content=body, headers=headers)
    assert late.json() == {"order_id": order_id, "duplicate": True}


def test_a_cancellation_after_shipping_is_refused(system: System):
    sku = _sku()
    system.stock(sku, 5)
    payload = shopify_payload([(sku, 1, "9.99")])
    body, headers = signed(payload, SHOPIFY_SECRET)
    order_id = system.client.post("/webhooks/shopify", content=body, headers=headers).json()["order_id"]
    system.wait_for_status(order_id, "SHIPPED")
    _cancelled_on_shopify(system, payload)
    time.sleep(1)
    assert system.client.get(f"/orders/{order_id}").json()["status"] == "SHIPPED"  # goods left: use returns
