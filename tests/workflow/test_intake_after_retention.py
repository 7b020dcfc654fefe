"""An order we have stays one order after Temporal has forgotten its workflow (a finished run leaves
retention, 7 days in compose): a later delivery of it, by webhook, POST /orders or a pulled page, is
a duplicate and starts nothing; a cancel of it starts nothing either.

Retention is simulated faithfully as what it leaves behind: the order's row in our database (as its
first activity writes it) and no workflow of that id on the Temporal server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.order import Order
from domain.status import OrderStatus
from integrations.channels import bol, shopify, woocommerce
from persistence.master_data.catalogue import resolver_for
from persistence.models import OrderRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.channels.factories import seed_bol_orders
from tests.factories import make_order, next_id, shopify_payload
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.test_channel_pull import bol_order, bol_settings, cancel_on_bol, pull

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from tests.conftest import TestDatabase

TOKEN = "retention-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
WOO_ORDER = Path(__file__).resolve().parents[1] / "unit" / "data" / "woocommerce" / "order_tax_exclusive.json"


def _recorded_long_ago(db: TestDatabase, order: Order) -> None:
    """The order's row as its workflow left it when it completed; the workflow itself is gone."""
    with UnitOfWork(db.session_factory) as uow:
        assert order_store.record_order(uow.session, order, datetime(2026, 1, 5, tzinfo=UTC))
        record = uow.session.get(OrderRecord, order.order_id)
        assert record is not None
        record.status = OrderStatus.COMPLETED.value
        uow.commit()


async def _unknown_to_temporal(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return True
        raise
    return False


def _cancel_claim(db: TestDatabase, order_id: str) -> datetime | None:
    with db.session() as session:
        record = session.get(OrderRecord, order_id)
        assert record is not None
        return record.cancel_requested_at


def _shopify_headers(raw: bytes, topic: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify.sign("dev-shopify-secret", raw),
        "X-Shopify-Webhook-Id": f"wh-{next_id()}",
    }


def _woo_headers(raw: bytes, topic: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Signature": woocommerce.sign("dev-woocommerce-secret", raw),
    }


async def test_webhooks_of_an_order_we_have_start_nothing_after_retention(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        payload = shopify_payload([("A", 1, "10.00")])
        _recorded_long_ago(database, shopify.to_order(payload))
        woo = json.loads(WOO_ORDER.read_text(), parse_float=Decimal)
        woo.update(id=next_id() % 10**9, status="processing")
        _recorded_long_ago(database, woocommerce.to_order(woo))
        shopify_id, woo_id = f"order-shopify-{payload['id']}", f"order-woocommerce-{woo['id']}"

        with api_client(engine, TOKEN) as api:
            raw = json.dumps(payload).encode()
            again = api.post("/webhooks/shopify", content=raw, headers=_shopify_headers(raw, "orders/create"))
            assert again.status_code == 202 and again.json() == {"order_id": shopify_id, "duplicate": True}

            updated = json.dumps(woo, default=str).encode()  # WooCommerce's order.updated, still processing
            again = api.post("/webhooks/woocommerce", content=updated, headers=_woo_headers(updated, "order.updated"))
            assert again.status_code == 202 and again.json() == {"order_id": woo_id, "duplicate": True}

            # Cancelled on the channel: the order we have is finished; nothing starts to cancel it.
            payload.update(cancelled_at="2026-02-01T10:00:00+01:00", cancel_reason="customer")
            raw = json.dumps(payload).encode()
            cancelled = api.post("/webhooks/shopify", content=raw, headers=_shopify_headers(raw, "orders/cancelled"))
            assert cancelled.status_code == 202 and cancelled.json() == {"order_id": shopify_id, "duplicate": True}

        assert await _unknown_to_temporal(temporal_client, shopify_id)
        assert await _unknown_to_temporal(temporal_client, woo_id)
        assert _cancel_claim(database, shopify_id) is None  # the claim went with the cancel that could not land


async def test_post_orders_of_an_order_we_have_starts_nothing_after_retention(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        order = make_order([("A", 1, 1000)], channel="webshop")
        _recorded_long_ago(database, order)
        body = {
            "channel": "webshop",
            "external_id": order.external_id,
            "currency": "EUR",
            "lines": [{"sku": "A", "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}],
            "shipping_address": {"name": "Sem", "city": "Amsterdam", "country": "NL"},
        }
        with api_client(engine, TOKEN) as api:
            again = api.post("/orders", json=body, headers=STAFF)
            assert again.status_code == 202 and again.json() == {"order_id": order.order_id, "duplicate": True}
        assert await _unknown_to_temporal(temporal_client, order.order_id)


async def test_a_pulled_page_with_an_order_we_have_starts_nothing_after_retention(temporal_client, database, bol_url):
    known, cancelled = bol_order(), bol_order()
    async with running_engine(temporal_client, database, **bol_settings(bol_url)) as engine:
        for payload in (known, cancelled):
            _recorded_long_ago(database, bol.to_order(payload, resolver_for(database.session_factory, "bol")))
        seed_bol_orders(bol_url, known, cancelled)
        cancel_on_bol(bol_url, cancelled["orderId"])
        result = await pull(engine, "bol")
        assert (result.pulled, result.started, result.duplicates, result.cancelled) == (2, 0, 1, 0)
    for payload in (known, cancelled):
        assert await _unknown_to_temporal(temporal_client, f"order-bol-{payload['orderId']}")
