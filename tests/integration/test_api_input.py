"""Bad input gets a clear 4xx (never a 500) and staff endpoints need a token; Temporal down: /health is
503, and a valid order is taken all the same (202: kept in the intake, started once Temporal is back)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import load_settings
from ops.temporal_dev import free_port
from tests.factories import shopify_payload, signed

TOKEN = "test-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    # Temporal is pointed at a closed port: input checks must answer before it is ever needed.
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _webhook(api: TestClient, payload: object) -> int:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    _, headers = signed({}, "dev-shopify-secret")
    from integrations.channels.shopify import sign

    headers["X-Shopify-Hmac-Sha256"] = sign("dev-shopify-secret", body)
    return api.post("/webhooks/shopify", content=body, headers=headers).status_code


def test_staff_endpoints_need_the_token(api):
    assert api.get("/orders").status_code == 401
    assert api.get("/orders", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api.post("/locations", json={}).status_code == 401
    assert api.get("/orders", headers=STAFF).status_code == 200
    assert api.get("/docs").status_code == 200


def test_health_is_503_when_temporal_is_down(api):
    response = api.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    # Which parts are real is said whatever the checks answer (this test's settings: sandboxes).
    parts = {(part["part"], part["name"]): part["mode"] for part in response.json()["components"]}
    assert parts[("payments", "stripe")] == "sandbox" and parts[("carrier", "sandbox")] == "sandbox"


def _broken_payloads() -> list[tuple[str, object]]:
    good = shopify_payload([("SKU-1", 1, "10.00")])
    cases: list[tuple[str, object]] = [
        ("not json", b"{not json"),
        ("truncated", json.dumps(good).encode()[:-20]),
        ("not utf-8", b"\xff\xfe{}"),
        ("a list", [good]),
        ("empty object", {}),
    ]
    for name, change in [
        ("missing id", lambda p: p.pop("id")),
        ("negative quantity", lambda p: p["line_items"][0].update(quantity=-1)),
        ("no line items", lambda p: p.update(line_items=[])),
        ("unknown currency", lambda p: p.update(currency="XYZ")),
        ("price not a number", lambda p: p["line_items"][0].update(price="ten")),
        ("sub-cent price", lambda p: p["line_items"][0].update(price="10.001")),
        ("id as text", lambda p: p.update(id="abc")),
        ("bad date", lambda p: p.update(created_at="yesterday")),
        ("line items not a list", lambda p: p.update(line_items="x")),
        # Past a column's limit: refused at the door rather than failing the record step for ever.
        ("reference over 100 characters", lambda p: p.update(name="#" + "1" * 100)),
        ("e-mail over 320 characters", lambda p: p.update(email="a" * 321 + "@example.com")),
        ("sku over 100 characters", lambda p: p["line_items"][0].update(sku="S" * 101)),
        ("quantity of 2**31", lambda p: p["line_items"][0].update(quantity=2**31)),
    ]:
        payload = json.loads(json.dumps(good))
        change(payload)
        cases.append((name, payload))
    return cases


@pytest.mark.parametrize(("name", "payload"), _broken_payloads(), ids=[c[0] for c in _broken_payloads()])
def test_malformed_shopify_orders_get_a_4xx(api, name, payload):
    assert _webhook(api, payload) in (400, 422)


def test_a_valid_order_with_temporal_down_is_taken(api):
    assert _webhook(api, shopify_payload([("SKU-1", 1, "10.00")])) == 202


@pytest.mark.parametrize(
    "change",
    [
        {"lines": []},
        {"lines": [{"sku": "A", "quantity": 0, "unit_price": {"amount_minor": 100, "currency": "EUR"}}]},
        {"lines": [{"sku": "A", "quantity": 1.5, "unit_price": {"amount_minor": 100, "currency": "EUR"}}]},
        {"lines": [{"sku": "A", "quantity": 1, "unit_price": {"amount_minor": 1.25, "currency": "EUR"}}]},
        {"currency": "XYZ"},
        {"channel": "amazon"},
        {"external_id": "has spaces"},
    ],
)
def test_malformed_canonical_orders_get_422(api, change):
    order = {
        "channel": "webshop",
        "external_id": "W-1",
        "currency": "EUR",
        "lines": [{"sku": "A", "quantity": 1, "unit_price": {"amount_minor": 100, "currency": "EUR"}}],
    }
    response = api.post("/orders", json={**order, **change}, headers=STAFF)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["message"]


def test_inventory_endpoints_and_their_refusals(api):
    location = {
        "location_id": "AMS",
        "name": "Amsterdam DC",
        "kind": "warehouse",
        "country": "nl",
        "postcode": "1043 AP",
        "latitude": 52.386,
        "longitude": 4.836,
    }
    assert api.post("/locations", json=location, headers=STAFF).status_code == 201
    assert api.post("/locations", json={**location, "name": "Amsterdam"}, headers=STAFF).status_code == 200
    assert api.post("/locations", json={**location, "kind": "castle"}, headers=STAFF).status_code == 422
    adjust = {"location_id": "AMS", "sku": "MUG", "delta": 5, "reason": "receipt"}
    created = api.post("/inventory/adjustments", json=adjust, headers=STAFF)
    assert created.status_code == 201 and created.json()["on_hand"] == 5
    assert api.post("/inventory/adjustments", json={**adjust, "location_id": "NOPE"}, headers=STAFF).status_code == 422
    assert api.post("/inventory/adjustments", json={**adjust, "delta": 1.5}, headers=STAFF).status_code == 422
    assert api.post("/inventory/adjustments", json={**adjust, "delta": "5"}, headers=STAFF).status_code == 422
    too_many = api.post("/inventory/adjustments", json={**adjust, "delta": -6}, headers=STAFF)
    assert too_many.status_code == 409 and too_many.json()["detail"]["on_hand"] == 5
    view = api.get("/inventory/MUG", headers=STAFF).json()
    assert view["available"] == 5 and view["channels"]["shopify"] == 5
    assert api.get("/inventory/NOPE", headers=STAFF).status_code == 404
    assert api.get("/orders/order-shopify-1", headers=STAFF).status_code == 404
    assert api.get("/orders", params={"status": "LOST"}, headers=STAFF).status_code == 422
    assert api.get("/orders", params={"limit": 0}, headers=STAFF).status_code == 422
