"""Every signed webhook body and every authenticated POST /orders body is kept, redacted, with its
outcome; forgeries are not; keeping never costs an order. Real app, real databases, and the
session's Temporal dev server (no worker: a started workflow waits, which is all we look at)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from api.main import create_app
from config import load_settings
from integrations.channels import shopify, woocommerce
from ops.temporal_dev import DevServer, free_port
from persistence.models import ChannelMessage
from tests.factories import next_id, shopify_payload

TOKEN = "audit-admin-token"
POS_KEY = "audit-pos-key-0001"
SHOPIFY_SECRET = "audit-shopify-secret"
WOO_SECRET = "audit-woocommerce-secret"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
POS = {"Authorization": f"Bearer {POS_KEY}"}
CARD = "4242424242424242"  # Luhn-valid
NOTE_CARD = "4000 0566 5566 5556"  # Luhn-valid, grouped as typed
WOO_ORDER = Path(__file__).resolve().parents[1] / "unit" / "data" / "woocommerce" / "order_tax_exclusive.json"


def _settings(database, temporal_address: str):
    return load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        pos_api_key=POS_KEY,
        shopify_webhook_secret=SHOPIFY_SECRET,
        woocommerce_webhook_secret=WOO_SECRET,
        temporal_address=temporal_address,
        task_queue=f"payload-audit-{uuid.uuid4()}",
    )


@pytest.fixture
def api(database, temporal_server: DevServer) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(database, temporal_server.address)), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def api_without_temporal(sqlite_database) -> Iterator[TestClient]:
    settings = _settings(sqlite_database, f"localhost:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _kept(database) -> list[ChannelMessage]:
    with database.session() as session:
        return list(session.scalars(select(ChannelMessage).order_by(ChannelMessage.id)))


def _shopify(api: TestClient, body: object, *, topic: str = "orders/create", secret: str = SHOPIFY_SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify.sign(secret, raw),
        "X-Shopify-Webhook-Id": f"wh-{next_id()}",
    }
    return api.post("/webhooks/shopify", content=raw, headers=headers)


def _woo(api: TestClient, body: object, *, topic: str = "order.created", secret: str = WOO_SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Signature": woocommerce.sign(secret, raw),
    }
    return api.post("/webhooks/woocommerce", content=raw, headers=headers)


def _woo_order(status: str = "processing") -> dict:
    payload = json.loads(WOO_ORDER.read_text(), parse_float=Decimal)
    payload.update(id=next_id() % 10**9, status=status)
    return payload


def _with_card_data(payload: dict) -> dict:
    payload["payment_details"] = {
        "credit_card_bin": "424242",
        "avs_result_code": "Y",
        "cvv_result_code": "M",
        "credit_card_number": CARD,
        "credit_card_company": "Visa",
    }
    payload["note"] = f"Card {NOTE_CARD}, exp 12/29. Shop secret {SHOPIFY_SECRET}; staff token {TOKEN}"
    payload["customer"] = {"email": "jan@example.nl", "password": "hunter2hunter2", "api_key": "ck_live_123"}
    return payload


def test_card_data_and_secrets_never_reach_the_stored_row(api, database):
    payload = _with_card_data(shopify_payload([("MUG", 1, "12.50")]))
    response = _shopify(api, payload)
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]

    [row] = _kept(database)
    for secret in (CARD, NOTE_CARD, "4242 4242", SHOPIFY_SECRET, TOKEN, "hunter2", "ck_live_123", "424242"):
        assert secret not in row.body
    assert (row.channel, row.kind, row.outcome, row.order_id) == ("shopify", "orders/create", "taken", order_id)
    assert row.external_id == str(payload["id"])

    listed = api.get(f"/orders/{order_id}/messages", headers=STAFF)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    [message] = listed.json()["data"]
    assert set(message) == {"id", "channel", "kind", "external_id", "outcome", "received_at", "body"}
    body = message["body"]
    assert body["payment_details"] == "[removed]"
    assert body["customer"] == {"email": "jan@example.nl", "password": "[removed]", "api_key": "[removed]"}
    assert body["note"] == "Card [removed], exp 12/29. Shop secret [removed]; staff token [removed]"
    assert body["line_items"][0]["sku"] == "MUG" and body["total_price"] == payload["total_price"]


def test_a_redelivery_is_kept_as_a_duplicate_and_a_cancellation_as_cancelled(api, database):
    payload = shopify_payload([("MUG", 1, "12.50")])
    assert _shopify(api, payload).json()["duplicate"] is False
    assert _shopify(api, payload).json()["duplicate"] is True
    cancelled_body = {**payload, "cancelled_at": "2026-11-20T15:00:00+01:00", "cancel_reason": "customer"}
    cancelled = _shopify(api, cancelled_body, topic="orders/cancelled")
    assert cancelled.status_code == 202, cancelled.text
    outcomes = [(row.kind, row.outcome) for row in _kept(database)]
    assert outcomes == [("orders/create", "taken"), ("orders/create", "duplicate"), ("orders/cancelled", "cancelled")]


@pytest.mark.parametrize(
    ("raw", "status", "outcome"),
    [
        (b"{not json " + CARD.encode(), 400, "rejected: malformed JSON: "),
        (b"[1, 2]", 400, "rejected: malformed JSON: expected an object"),
        (b"\xff\xfe{}", 400, "rejected: malformed JSON: "),
        (b"[" * 100_000, 400, "rejected: malformed JSON: nested too deeply"),
    ],
)
def test_a_malformed_body_with_a_valid_signature_is_kept(api, database, raw, status, outcome):
    assert _shopify(api, raw).status_code == status
    [row] = _kept(database)
    assert row.outcome.startswith(outcome) and row.order_id is None
    assert CARD not in row.body and row.body  # the text that came in, masked


def test_an_order_that_does_not_map_is_kept_and_listed_under_its_order_id(api, database):
    payload = shopify_payload([("MUG", 1, "12.50")])
    payload["line_items"][0]["quantity"] = -1
    response = _shopify(api, payload)
    assert response.status_code == 422
    order_id = f"order-shopify-{payload['id']}"
    listed = api.get(f"/orders/{order_id}/messages", headers=STAFF).json()
    [message] = listed["data"]
    assert message["outcome"].startswith("rejected: not a Shopify order: line_items.0.quantity")
    assert message["body"]["line_items"][0]["quantity"] == -1
    assert api.get("/orders/order-shopify-1/messages", headers=STAFF).status_code == 404


def test_a_bad_signature_is_not_kept(api, database):
    assert _shopify(api, shopify_payload([("MUG", 1, "1.00")]), secret="forged").status_code == 401
    assert _shopify(api, b"{not json", secret="forged").status_code == 401
    assert _woo(api, _woo_order(), secret="forged").status_code == 401
    unsigned = api.post("/webhooks/shopify", content=b"{}", headers={"X-Shopify-Topic": "orders/create"})
    assert unsigned.status_code == 401
    ping = api.post("/webhooks/woocommerce", content=b"webhook_id=7", headers={"Content-Type": "text/plain"})
    assert ping.status_code == 200
    assert _kept(database) == []


def test_topics_we_do_not_act_on_are_kept_as_ignored(api, database):
    assert _shopify(api, {"id": 1, "title": "Mug"}, topic="products/update").status_code == 200
    [row] = _kept(database)
    assert (row.kind, row.outcome, row.order_id) == ("products/update", "ignored", None)


def test_woocommerce_deliveries_are_kept_with_their_outcome(api, database):
    paid = _with_card_data(_woo_order("processing"))
    started = _woo(api, paid)
    assert started.status_code == 202, started.text
    assert _woo(api, _woo_order("pending"), topic="order.updated").status_code == 200
    assert _woo(api, {"id": 77, "line_items": "x"}).status_code == 422
    assert _woo(api, b"{not json").status_code == 400
    rows = _kept(database)
    assert {row.channel for row in rows} == {"woocommerce"}
    assert [row.kind for row in rows] == ["order.created", "order.updated", "order.created", "order.created"]
    assert [row.outcome.split(":")[0] for row in rows] == ["taken", "ignored", "rejected", "rejected"]
    assert rows[0].order_id == started.json()["order_id"] and rows[1].outcome == "ignored: status pending"
    assert rows[2].order_id == "order-woocommerce-77"
    assert all(CARD not in row.body and NOTE_CARD not in row.body for row in rows)
    assert "[removed]" in rows[0].body and json.loads(rows[0].body)["customer"]["password"] == "[removed]"


def _canonical(**changes: object) -> dict:
    return {
        "channel": "pos",
        "external_id": f"A-{next_id()}",
        "currency": "EUR",
        "lines": [{"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}],
        "payment_collected": True,
        **changes,
    }


def test_post_orders_bodies_are_kept_accepted_or_not(api, database):
    accepted = _canonical(reference=f"ticket {NOTE_CARD}")
    response = api.post("/orders", json=accepted, headers=POS)
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    assert api.post("/orders", json=accepted, headers=STAFF).json()["duplicate"] is True
    assert api.post("/orders", json=_canonical(lines=[]), headers=POS).status_code == 422
    assert api.post("/orders", json=_canonical(channel="webshop"), headers=POS).status_code == 403
    assert api.post("/orders", content=b"{not json", headers=STAFF).status_code == 422
    # Not authenticated: nothing kept.
    assert api.post("/orders", json=_canonical(), headers={"Authorization": "Bearer guess"}).status_code == 401

    rows = _kept(database)
    assert [(row.channel, row.kind, row.outcome.split(":")[0]) for row in rows] == [
        ("pos", "api", "taken"),
        ("pos", "api", "duplicate"),
        ("pos", "api", "rejected"),
        ("pos", "api", "rejected"),
        ("unknown", "api", "rejected"),
    ]
    assert rows[0].order_id == order_id and rows[1].order_id == order_id
    assert rows[2].outcome.startswith("rejected: not a canonical order: lines: ")
    assert rows[3].outcome == "rejected: this is the pos key: it may create pos orders only, not webshop orders"
    assert all(NOTE_CARD not in row.body and POS_KEY not in row.body and TOKEN not in row.body for row in rows)
    [first, second] = api.get(f"/orders/{order_id}/messages", headers=STAFF).json()["data"]
    assert first["body"]["reference"] == "ticket [removed]" and second["outcome"] == "duplicate"


def test_a_body_nested_too_deeply_is_a_4xx_and_kept(api, database):
    response = api.post("/orders", content=b'{"channel": "pos", "a":' * 5_000, headers=STAFF)  # within the cap
    assert response.status_code == 422 and "recursion limit" in response.json()["detail"]["message"]
    [row] = _kept(database)
    assert (row.channel, row.outcome.split(":")[0]) == ("unknown", "rejected")


def test_a_failed_audit_write_never_costs_an_order(api, database, caplog):
    with database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE channel_messages RENAME TO channel_messages_away"))
    try:
        with caplog.at_level(logging.ERROR, logger="services.payload_audit"):
            assert _shopify(api, shopify_payload([("MUG", 1, "12.50")])).status_code == 202
            assert api.post("/orders", json=_canonical(), headers=POS).status_code == 202
            assert _shopify(api, b"{not json").status_code == 400
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("ALTER TABLE channel_messages_away RENAME TO channel_messages"))
    logged = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("could not keep the shopify orders/create payload (taken)") for line in logged)
    assert any(line.startswith("could not keep the pos api payload (taken)") for line in logged)


def test_an_order_that_meets_temporal_down_is_taken_and_kept_as_taken(api_without_temporal, sqlite_database):
    assert _shopify(api_without_temporal, shopify_payload([("MUG", 1, "12.50")])).status_code == 202
    assert api_without_temporal.post("/orders", json=_canonical(), headers=POS).status_code == 202
    assert [row.outcome for row in _kept(sqlite_database)] == ["taken", "taken"]
