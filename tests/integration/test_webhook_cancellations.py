"""A webhook cancels an order only when its signed body says the order is cancelled: the topic header
(X-Shopify-Topic, X-WC-Webhook-Topic) is not covered by the signature, so a captured order body
re-sent under a cancellation topic must not cancel anything. Real app, both databases, the session's
Temporal dev server (no worker: a started workflow waits, and its history shows any cancel signal)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.client import Client

from api.main import create_app
from config import load_settings
from integrations.channels import shopify, woocommerce
from ops.temporal_dev import DevServer
from persistence.models import ChannelMessage
from tests.factories import next_id, shopify_payload

SHOPIFY_SECRET = "cancel-rule-shopify-secret"
WOO_SECRET = "cancel-rule-woocommerce-secret"
WOO_ORDER = Path(__file__).resolve().parents[1] / "unit" / "data" / "woocommerce" / "order_tax_exclusive.json"


@pytest.fixture
def api(database, temporal_server: DevServer) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        shopify_webhook_secret=SHOPIFY_SECRET,
        woocommerce_webhook_secret=WOO_SECRET,
        temporal_address=temporal_server.address,
        task_queue=f"cancel-rule-{uuid.uuid4()}",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _shopify(api: TestClient, payload: dict, topic: str):
    raw = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify.sign(SHOPIFY_SECRET, raw),
    }
    return api.post("/webhooks/shopify", content=raw, headers=headers)


def _woo(api: TestClient, payload: dict, topic: str):
    raw = json.dumps(payload, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": woocommerce.sign(WOO_SECRET, raw),
    }
    return api.post("/webhooks/woocommerce", content=raw, headers=headers)


async def _signals(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.workflow_execution_signaled_event_attributes.signal_name
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
    ]


def _outcomes(database, kind: str) -> list[str]:
    with database.session() as session:
        rows = session.scalars(select(ChannelMessage).where(ChannelMessage.kind == kind).order_by(ChannelMessage.id))
        return [row.outcome for row in rows]


async def test_a_captured_shopify_order_resent_as_cancelled_does_not_cancel(api, database, temporal_client):
    payload = shopify_payload([("MUG", 1, "12.50")])
    created = _shopify(api, payload, "orders/create")
    assert created.status_code == 202, created.text
    order_id = created.json()["order_id"]

    replayed = _shopify(api, payload, "orders/cancelled")  # the same signed body, only the topic changed
    assert replayed.status_code == 202, replayed.text
    assert replayed.json() == {"order_id": order_id, "duplicate": True}
    assert await _signals(temporal_client, order_id) == []
    [outcome] = _outcomes(database, "orders/cancelled")
    assert outcome.startswith("duplicate") and "no cancelled_at" in outcome


async def test_a_cancelled_topic_without_cancelled_at_for_a_new_order_records_it_uncancelled(
    api, database, temporal_client
):
    payload = shopify_payload([("MUG", 1, "12.50")])
    taken = _shopify(api, payload, "orders/cancelled")
    assert taken.status_code == 202, taken.text
    assert taken.json()["duplicate"] is False
    assert await _signals(temporal_client, taken.json()["order_id"]) == []
    [outcome] = _outcomes(database, "orders/cancelled")
    assert outcome.startswith("taken") and "no cancelled_at" in outcome


async def test_a_shopify_body_that_says_it_is_cancelled_cancels(api, database, temporal_client):
    payload = shopify_payload([("MUG", 1, "12.50")])
    assert _shopify(api, payload, "orders/create").status_code == 202
    cancelled = {**payload, "cancelled_at": "2026-11-20T15:00:00+01:00", "cancel_reason": "customer"}
    response = _shopify(api, cancelled, "orders/cancelled")
    assert response.status_code == 202, response.text
    assert await _signals(temporal_client, response.json()["order_id"]) == ["cancel"]
    assert _outcomes(database, "orders/cancelled") == ["cancelled"]


def test_a_shopify_cancelled_at_that_is_not_a_time_is_422(api):
    payload = {**shopify_payload([("MUG", 1, "12.50")]), "cancelled_at": "soon"}
    response = _shopify(api, payload, "orders/cancelled")
    assert response.status_code == 422, response.text
    assert "cancelled_at" in response.json()["detail"]["message"]


@pytest.mark.parametrize("topic", sorted(woocommerce.ORDER_TOPICS))
async def test_a_paid_woocommerce_order_under_any_topic_never_cancels(api, temporal_client, topic):
    # WooCommerce decides by the signed body's status, whatever its (unsigned) topic header says.
    payload = json.loads(WOO_ORDER.read_text(), parse_float=Decimal)
    payload.update(id=next_id() % 10**9, status="processing")
    first = _woo(api, payload, "order.created")
    assert first.status_code == 202, first.text
    replayed = _woo(api, payload, topic)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["duplicate"] is True
    assert await _signals(temporal_client, first.json()["order_id"]) == []
