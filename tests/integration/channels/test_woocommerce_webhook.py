"""POST /webhooks/woocommerce through the real API app: signature, ping, bad input, statuses, start and dedupe."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from temporalio.client import WorkflowExecutionStatus

from api.main import create_app
from config import load_settings
from integrations.channels.woocommerce import sign
from ops.temporal_dev import DevServer, free_port
from tests.factories import next_id
from tests.started import started_description
from workflows.search_attributes import CHANNEL

SECRET = "test-woocommerce-secret"
ORDER = Path(__file__).resolve().parents[2] / "unit" / "data" / "woocommerce" / "order_tax_exclusive.json"


def _order(status: str = "processing", **changes: object) -> dict:
    payload = json.loads(ORDER.read_text(), parse_float=Decimal)
    payload.update(id=next_id() % 10**9, status=status, **changes)
    return payload


def _post(api: TestClient, body: object, *, topic: str | None = "order.created", secret: str = SECRET, **headers: str):
    raw = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    sent = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": (topic or "").partition(".")[2],
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        "X-WC-Webhook-Signature": sign(secret, raw),
        **headers,
    }
    if topic is not None:
        sent["X-WC-Webhook-Topic"] = topic
    return api.post("/webhooks/woocommerce", content=raw, headers=sent)


@pytest.fixture
def api(sqlite_database) -> Iterator[TestClient]:
    # Temporal is pointed at a closed port: every answer here must come before it is needed.
    settings = load_settings(
        database_url=sqlite_database.url,
        woocommerce_webhook_secret=SECRET,
        temporal_address=f"localhost:{free_port()}",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def api_with_temporal(sqlite_database, temporal_server: DevServer) -> Iterator[TestClient]:
    # No worker polls this queue: a started order's workflow simply waits, which is all we look at.
    settings = load_settings(
        database_url=sqlite_database.url,
        woocommerce_webhook_secret=SECRET,
        temporal_address=temporal_server.address,
        task_queue=f"woocommerce-webhook-{uuid.uuid4()}",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_a_bad_or_missing_signature_is_401(api):
    payload = _order()
    assert _post(api, payload, secret="not-the-secret").status_code == 401
    assert _post(api, payload, **{"X-WC-Webhook-Signature": ""}).status_code == 401
    raw = json.dumps(payload, default=str).encode()
    assert (
        api.post("/webhooks/woocommerce", content=raw, headers={"X-WC-Webhook-Topic": "order.created"}).status_code
        == 401
    )


def test_the_ping_sent_when_the_webhook_is_saved_is_200(api):
    # As WC_Webhook::deliver_ping sends it: form-encoded, unsigned, no X-WC-Webhook-* headers.
    response = api.post(
        "/webhooks/woocommerce",
        content=b"webhook_id=7",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/8.9.3 Hookshot"},
    )
    assert response.status_code == 200


def test_an_unsigned_body_that_only_looks_like_a_ping_does_not_pass(api):
    response = api.post("/webhooks/woocommerce", content=b"webhook_id=7&id=1", headers={})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [b"{not json", json.dumps({"id": 1}).encode()[:-3], b"\xff\xfe{}", b"[1, 2]", b""])
def test_malformed_json_is_400(api, body):
    assert _post(api, body).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id": 5, "name": "Mug", "type": "simple", "status": "publish", "sku": "MUG"},
        {"hello": "world"},
    ],
)
def test_json_that_is_not_an_order_is_422_with_a_message(api, body):
    response = _post(api, body)
    assert response.status_code == 422
    assert response.json()["detail"]["message"].startswith("not a WooCommerce order")


def test_a_paid_order_that_cannot_be_represented_is_422(api):
    response = _post(api, _order(currency="XYZ"))
    assert response.status_code == 422 and "XYZ" in response.json()["detail"]["message"]
    assert _post(api, _order(line_items=[])).status_code == 422


@pytest.mark.parametrize(("status", "paid"), [("pending", False), ("on-hold", False), ("cancelled", False)])
def test_an_order_not_paid_yet_is_acknowledged_and_ignored(api, status, paid):
    response = _post(api, _order(status, date_paid_gmt=None), topic="order.updated")
    assert response.status_code == 200 and response.json() == {"ignored": status}


def test_other_topics_are_acknowledged_and_ignored(api):
    response = _post(api, {"id": 1042}, topic="order.deleted")
    assert response.status_code == 200 and response.json() == {"ignored": "order.deleted"}
    assert _post(api, {"id": 5, "sku": "MUG"}, topic="product.updated").json() == {"ignored": "product.updated"}


def test_a_paid_order_with_temporal_down_is_taken_and_a_cancel_of_it_is_503_for_redelivery(api):
    payload = _order()
    taken = _post(api, payload)
    assert taken.status_code == 202 and taken.json()["duplicate"] is False
    assert _post(api, payload).json() == {"order_id": taken.json()["order_id"], "duplicate": True}
    assert _post(api, {**payload, "status": "cancelled"}, topic="order.updated").status_code == 503


async def test_a_processing_order_is_accepted_once_and_a_redelivery_is_a_duplicate(api_with_temporal, temporal_client):
    payload = _order("processing")
    first = _post(api_with_temporal, payload)
    assert first.status_code == 202, first.text
    assert first.json() == {"order_id": f"order-woocommerce-{payload['id']}", "duplicate": False}
    described = await started_description(temporal_client, first.json()["order_id"])
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.typed_search_attributes.get(CHANNEL) == "woocommerce"
    # order.updated for the same order (e.g. a note added): the same workflow id dedupes it.
    again = _post(api_with_temporal, {**payload, "status": "completed"}, topic="order.updated")
    assert again.status_code == 202
    assert again.json() == {"order_id": f"order-woocommerce-{payload['id']}", "duplicate": True}


async def test_a_paid_order_cancelled_on_woocommerce_is_cancelled_here(api_with_temporal, temporal_client):
    payload = _order("processing")
    assert _post(api_with_temporal, payload).status_code == 202
    cancelled = _post(api_with_temporal, {**payload, "status": "refunded"}, topic="order.updated")
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["order_id"] == f"order-woocommerce-{payload['id']}"
    history = await temporal_client.get_workflow_handle(cancelled.json()["order_id"]).fetch_history()
    signals = [
        event.workflow_execution_signaled_event_attributes.signal_name
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signals == ["cancel"]
