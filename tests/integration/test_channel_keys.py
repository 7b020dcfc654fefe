"""Per-channel API keys on POST /orders (web shop, POS) and reading back, and the POS counter-sale
input, through the real app on the session's Temporal dev server (no worker polls the queue: a
started order's workflow just waits, which is all these tests look at)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import load_settings
from contracts.order_workflow import OrderWorkflowInput
from ops.temporal_dev import DevServer
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, make_order, next_id
from tests.started import started_history

TOKEN = "test-admin-token"
POS_KEY = "pos-terminal-key-1"
WEBSHOP_KEY = "webshop-key-1"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
POS = {"Authorization": f"Bearer {POS_KEY}"}
WEBSHOP = {"Authorization": f"Bearer {WEBSHOP_KEY}"}


@pytest.fixture
def api(database, temporal_server: DevServer) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        pos_api_key=POS_KEY,
        webshop_api_key=WEBSHOP_KEY,
        temporal_address=temporal_server.address,
        task_queue=f"channel-keys-{uuid.uuid4()}",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _order(channel: str = "pos", **changes: object) -> dict:
    return {
        "channel": channel,
        "external_id": f"T-{next_id()}",
        "currency": "EUR",
        "lines": [{"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}],
        "payment_collected": True,
        **changes,
    }


def _record(database, channel: str) -> str:
    order = make_order([("MUG", 1, 1250)], channel=channel)
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    return order.order_id


def test_each_key_creates_its_own_channels_orders_and_staff_any(api):
    for headers, channel in [(POS, "pos"), (WEBSHOP, "webshop"), (STAFF, "pos"), (STAFF, "webshop")]:
        body = _order(channel)
        response = api.post("/orders", json=body, headers=headers)
        assert response.status_code == 202, response.text
        assert response.json() == {"order_id": f"order-{channel}-{body['external_id']}", "duplicate": False}


@pytest.mark.parametrize(("headers", "theirs"), [(POS, "webshop"), (WEBSHOP, "pos")])
def test_a_key_for_another_channels_order_is_403_and_says_why(api, headers, theirs):
    response = api.post("/orders", json=_order(theirs), headers=headers)
    assert response.status_code == 403
    mine = "pos" if theirs == "webshop" else "webshop"
    assert response.json()["detail"] == f"this is the {mine} key: it may create {mine} orders only, not {theirs} orders"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": f"Basic {POS_KEY}"},
        {"Authorization": f"Bearer {POS_KEY}x"},
        {"Authorization": "Bearer "},
    ],
)
def test_anything_else_is_401_even_with_a_bad_body(api, headers):
    for body in (_order("pos"), {"channel": "pos"}):
        response = api.post("/orders", json=body, headers=headers)
        assert response.status_code == 401
        assert "API key" in response.json()["detail"]
    assert api.post("/orders", content=b"{not json", headers=headers).status_code == 401


def test_an_unset_key_opens_nothing(database, temporal_server):
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address=temporal_server.address)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.post("/orders", json=_order("pos"), headers={"Authorization": "Bearer "}).status_code == 401
        assert client.post("/orders", json=_order("pos"), headers=POS).status_code == 401


def test_a_key_reads_back_its_own_channels_orders_only(api, database):
    pos_order, webshop_order = _record(database, "pos"), _record(database, "webshop")
    mine = api.get(f"/orders/{pos_order}", headers=POS)
    assert mine.status_code == 200 and mine.json()["channel"] == "pos"
    # Another channel's id: 403 from the id alone, whether or not that order exists.
    for other in (webshop_order, "order-webshop-does-not-exist", "order-shopify-1"):
        refused = api.get(f"/orders/{other}", headers=POS)
        assert refused.status_code == 403 and refused.json()["detail"] == "the pos key may read pos orders only"
    assert api.get("/orders/order-pos-does-not-exist", headers=POS).status_code == 404
    assert api.get(f"/orders/{webshop_order}", headers=WEBSHOP).status_code == 200
    assert api.get(f"/orders/{webshop_order}", headers=STAFF).status_code == 200
    assert api.get(f"/orders/{pos_order}", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_every_other_endpoint_stays_staff_only(api, database):
    order_id = _record(database, "pos")
    calls = [
        ("GET", "/orders", None),
        ("GET", f"/orders/{order_id}/messages", None),
        ("POST", f"/orders/{order_id}/cancel", {}),
        ("POST", f"/orders/{order_id}/release", {}),
        ("GET", "/inventory/MUG", None),
        ("POST", "/inventory/adjustments", {"location_id": "AMS", "sku": "MUG", "delta": 5, "reason": "x"}),
        ("PUT", "/channels/pos", {}),
        ("PUT", "/catalogue/MUG", {"name": "Mug"}),
    ]
    for method, path, body in calls:
        response = api.request(method, path, json=body, headers=POS)
        assert response.status_code == 403, (path, response.text)
        assert "needs a staff token" in response.json()["detail"]
        assert api.request(method, path, json=body).status_code == 401
    assert api.get("/orders", headers=STAFF).status_code == 200


async def test_a_counter_sale_is_accepted_and_handed_on_as_one(api, temporal_client):
    body = _order("pos", fulfilled_by="counter", pickup_location_id="STORE-1")
    response = api.post("/orders", json=body, headers=POS)
    assert response.status_code == 202, response.text
    history = await started_history(temporal_client, response.json()["order_id"])
    started = history.events[0].workflow_execution_started_event_attributes
    [start] = await temporal_client.data_converter.decode(started.input.payloads, [OrderWorkflowInput])
    assert (start.order.fulfilled_by, start.order.pickup_location_id) == ("counter", "STORE-1")
    assert start.order.payment_collected is True


async def test_an_ordinary_order_is_fulfilled_by_us(api, temporal_client):
    response = api.post("/orders", json=_order("webshop"), headers=WEBSHOP)
    history = await started_history(temporal_client, response.json()["order_id"])
    started = history.events[0].workflow_execution_started_event_attributes
    [start] = await temporal_client.data_converter.decode(started.input.payloads, [OrderWorkflowInput])
    assert start.order.fulfilled_by == "us"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fulfilled_by": "counter"}, "a counter sale (fulfilled_by=counter) names its store in pickup_location_id"),
        (
            {"fulfilled_by": "counter", "pickup_location_id": "STORE-1", "payment_collected": False},
            "a counter sale (fulfilled_by=counter) is paid at the counter: payment_collected must be true",
        ),
        ({"fulfilled_by": "store"}, "fulfilled_by"),
        ({"fulfilled_by": None}, "fulfilled_by"),
    ],
)
def test_a_counter_sale_without_its_store_or_payment_is_422(api, changes, message):
    response = api.post("/orders", json=_order("pos", **changes), headers=POS)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]["message"]


def _counter_sale(store: str, quantity: int = 1) -> dict:
    body = _order("pos", fulfilled_by="counter", pickup_location_id=store)
    body["lines"][0]["quantity"] = quantity
    return body


@pytest.mark.parametrize("kind", ["warehouse", "dropship"])
def test_a_counter_sale_at_a_location_that_is_not_a_store_is_422(api, database, kind):
    add_location(database.session_factory, "WH-1", kind=kind)
    response = api.post("/orders", json=_counter_sale("WH-1", 3), headers=POS)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["message"] == (
        f"pickup_location_id: WH-1 is a {kind}, not a store: only a store's counter sells over the counter"
    )


def test_a_counter_sale_at_a_store_we_know_or_not_yet_is_taken(api, database):
    add_location(database.session_factory, "STORE-AMS", kind="store")
    assert api.post("/orders", json=_counter_sale("STORE-AMS", 1000), headers=POS).status_code == 202
    # A store not in the system yet: accepted, and the order waits on hold for a person (as before).
    assert api.post("/orders", json=_counter_sale("STORE-NEW"), headers=POS).status_code == 202


@pytest.mark.parametrize("quantity", [1001, 100_001, 2**31, 10**9])
def test_a_counter_sale_of_more_than_a_counters_worth_is_422(api, database, quantity):
    add_location(database.session_factory, "STORE-AMS", kind="store")
    response = api.post("/orders", json=_counter_sale("STORE-AMS", quantity), headers=POS)
    assert response.status_code == 422, response.text
    assert "quantity" in json.dumps(response.json())
