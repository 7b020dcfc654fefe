"""Stock and status out, end to end on a running engine: a stock change reaches every channel's stock
endpoint, and an order sold on each channel, shipped by the sandbox warehouse, is confirmed with its
carrier and tracking to the channel that sold it. The channels are their real-HTTP sandboxes."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from api.main import create_app
from config import load_settings
from domain.order import Order
from integrations.channels import amazon, bol, shopify, woocommerce
from ops.temporal_dev import free_port
from persistence.guarded_writes import inventory
from persistence.master_data import catalogue
from persistence.models import ShipmentRecord
from persistence.unit_of_work import UnitOfWork
from sandboxes import shopify as shopify_sandbox
from services.intake import start_order
from tests.channels.factories import amazon_settings, bol_settings, shopify_settings, woocommerce_settings
from tests.conftest import TestDatabase as Database
from tests.factories import add_location, next_id, shopify_payload, stock
from tests.workflow.conftest import Engine, running_engine
from tests.workflow.histories import record_history
from worker import stock_feed_workflow_id
from workflows.stock_feed import StockFeedWorkflow

DATA = Path(__file__).resolve().parents[1] / "unit" / "data"
MARKETPLACE = "A1PA6795UKMFR9"
SELLER = "A2SELLER0TEST1"
TEE, MUG = "TEE-ORG-BLK-M", "MUG-STONE-350"
CATALOGUE = {
    TEE: {"ean": "8712345678906", "bol": "6ff736b5-cdd0-4150-8c67-78269ee986f5"},
    MUG: {"ean": "8712345678913", "bol": "0a9e0c3a-5a26-4b8a-9a47-2d0f9e6c1b11"},
}
SHOPIFY_LOCATION = f"gid://shopify/Location/{shopify_sandbox.SANDBOX_LOCATION_ID}"


@dataclass
class Channels:
    shopify: str
    woocommerce: str
    bol: str
    amazon: str

    def settings(self) -> dict[str, Any]:
        """Every channel connected, each to its sandbox, as an operator would set OMS_* for real ones."""
        return {
            **shopify_settings(self.shopify),
            **woocommerce_settings(self.woocommerce),
            **bol_settings(self.bol),
            **amazon_settings(self.amazon, MARKETPLACE, seller_id=SELLER),
        }


@pytest.fixture
def channels(shopify_url: str, woocommerce_url: str, bol_url: str, amazon_url: str) -> Channels:
    return Channels(shopify=shopify_url, woocommerce=woocommerce_url, bol=bol_url, amazon=amazon_url)


@asynccontextmanager
async def connected_engine(client: Any, db: Database, channels: Channels) -> AsyncIterator[Engine]:
    async with running_engine(client, db, stock_feed=True, **channels.settings()) as engine:
        yield engine


def list_products(db: Database, skus: list[str]) -> None:
    """Our catalogue: each SKU's EAN (how bol names it), its bol offer and its Amazon SellerSKU."""
    with UnitOfWork(db.session_factory) as uow:
        for sku in skus:
            entry = CATALOGUE[sku]
            catalogue.save_product(
                uow.session, sku, name=sku.title(), ean=entry["ean"], listings={"bol": entry["bol"], "amazon": sku}
            )
        uow.commit()


async def sandbox(method: str, url: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.request(method, url, json=body)
        response.raise_for_status()
        return response.json()


async def eventually(
    check: Callable[[], Any], what: str, *, poke: WorkflowHandle[Any, Any] | None = None, timeout: float = 30
) -> Any:
    """Poll an async check until it answers something truthy. `poke`: the stock feed, nudged at
    every poll as a stock change would, so the test does not hang on the dev server's timers
    (which now and then fire late)."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        if poke is not None:
            await poke.signal(StockFeedWorkflow.poke)
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: still {last!r} after {timeout}s")


def stock_feed(engine: Engine) -> WorkflowHandle[Any, Any]:
    return engine.client.get_workflow_handle(stock_feed_workflow_id(engine.settings.task_queue))


# -- stock out ------------------------------------------------------------------------------------


async def test_a_stock_change_reaches_every_channels_stock_endpoint(temporal_client, sqlite_database, channels):
    db = sqlite_database
    add_location(db.session_factory, "AMS")
    list_products(db, [TEE])
    await sandbox("POST", f"{channels.shopify}/_sandbox/products", {"sku": TEE})
    [woo_product] = await sandbox("POST", f"{channels.woocommerce}/_sandbox/products", {"sku": TEE, "name": "Tee"})
    await sandbox("POST", f"{channels.amazon}/_sandbox/listings", {"sellerId": SELLER, "sku": TEE})

    async def everywhere() -> dict[str, int | None]:
        levels = (await sandbox("GET", f"{channels.shopify}/_sandbox/inventory"))["levels"]
        product = await sandbox("GET", f"{channels.woocommerce}/_sandbox/products/{woo_product['id']}")
        offers = await sandbox("GET", f"{channels.bol}/_sandbox/stock")
        listings = await sandbox("GET", f"{channels.amazon}/_sandbox/listings")
        bol_updates = offers.get(CATALOGUE[TEE]["bol"]) or [{}]
        return {
            "shopify": next(
                lv["available"] for lv in levels if lv["sku"] == TEE and lv["location_id"] == SHOPIFY_LOCATION
            ),
            "woocommerce": product["stock_quantity"] if product["manage_stock"] else None,
            "bol": bol_updates[-1].get("amount"),
            "amazon": listings[f"{SELLER}/{TEE}"]["quantity"] if listings[f"{SELLER}/{TEE}"]["submissions"] else None,
        }

    async with connected_engine(temporal_client, db, channels) as engine:
        stock(db.session_factory, "AMS", {TEE: 7})
        await eventually(
            lambda: _equals(everywhere, dict.fromkeys(("shopify", "woocommerce", "bol", "amazon"), 7)),
            "stock 7",
            poke=stock_feed(engine),
        )
        with UnitOfWork(db.session_factory) as uow:
            inventory.adjust_on_hand(uow.session, "AMS", TEE, -3, kind="adjustment", reason="damaged")
            uow.commit()
        await eventually(
            lambda: _equals(everywhere, dict.fromkeys(("shopify", "woocommerce", "bol", "amazon"), 4)),
            "stock 4",
            poke=stock_feed(engine),
        )
    bol_update = (await sandbox("GET", f"{channels.bol}/_sandbox/stock"))[CATALOGUE[TEE]["bol"]][-1]
    assert bol_update == {"amount": 4, "managedByRetailer": True}


async def _equals(read: Callable[[], Any], expected: dict[str, int]) -> dict[str, int] | None:
    seen = await read()
    return seen if seen == expected else None


# -- status out -----------------------------------------------------------------------------------


def _decimal_json(payload: Any) -> Any:
    """A payload as a channel adapter parses it (exact decimals)."""
    return json.loads(json.dumps(payload), parse_float=Decimal)


async def shopify_order(channels: Channels) -> Order:
    payload = shopify_payload([(TEE, 2, "19.95")])
    await sandbox("POST", f"{channels.shopify}/_sandbox/orders", payload)
    return shopify.to_order(_decimal_json(payload))


async def woocommerce_order(channels: Channels) -> Order:
    payload = json.loads((DATA / "woocommerce" / "order_tax_inclusive.json").read_text())
    payload["id"] = next_id() % 10**9
    payload["line_items"][0]["sku"], payload["line_items"][1]["sku"] = MUG, TEE
    await sandbox("POST", f"{channels.woocommerce}/_sandbox/orders", payload)
    return woocommerce.to_order(_decimal_json(payload))


async def bol_order(channels: Channels, db: Database) -> Order:
    payload = json.loads((DATA / "bol" / "order_fbr.json").read_text())
    payload["orderId"] = str(next_id())
    payload["orderItems"] = payload["orderItems"][:2]  # the tee (3) and the mug (2)
    for n, item in enumerate(payload["orderItems"]):
        item["orderItemId"] = f"{payload['orderId']}{n}"
    await sandbox("POST", f"{channels.bol}/_sandbox/orders", copy.deepcopy(payload))
    return bol.to_order(_decimal_json(payload), catalogue.resolver_for(db.session_factory, "bol"))


async def amazon_order(channels: Channels, db: Database) -> Order:
    payload = json.loads((DATA / "amazon" / "order_eu_mfn.json").read_text())
    payload["order"]["AmazonOrderId"] = f"302-{next_id() % 10**7:07d}-{next_id() % 10**7:07d}"
    await sandbox("POST", f"{channels.amazon}/_sandbox/orders", payload)
    return amazon.to_order(_decimal_json(payload), catalogue.resolver_for(db.session_factory, "amazon"))


def dispatched(db: Database, order_id: str) -> tuple[str, str]:
    """(carrier, tracking number) the sandbox warehouse gave the order's one shipment."""
    with db.session() as session:
        [shipment] = session.scalars(select(ShipmentRecord).where(ShipmentRecord.order_id == order_id))
        assert shipment.carrier and shipment.tracking_number
        return shipment.carrier, shipment.tracking_number


async def test_each_channel_hears_its_own_shipment_with_carrier_and_tracking(
    temporal_client, sqlite_database, channels
):
    db = sqlite_database
    add_location(db.session_factory, "AMS")
    stock(db.session_factory, "AMS", {TEE: 50, MUG: 50})
    list_products(db, [TEE, MUG])
    async with connected_engine(temporal_client, db, channels) as engine:
        orders = {
            "shopify": await shopify_order(channels),
            "woocommerce": await woocommerce_order(channels),
            "bol": await bol_order(channels, db),
            "amazon": await amazon_order(channels, db),
        }
        for order in orders.values():
            await start_order(temporal_client, engine.settings, order)
        for order in orders.values():
            await engine.wait_for_status(order.order_id, "SHIPPED", "COMPLETED")
        tracking = {channel: dispatched(db, order.order_id) for channel, order in orders.items()}

        async def shopify_fulfilled() -> list[dict[str, Any]]:
            fulfillments = await sandbox("GET", f"{channels.shopify}/_sandbox/fulfillments")
            gid = f"gid://shopify/Order/{orders['shopify'].external_id}"
            return [f for f in fulfillments if f["order_id"] == gid]

        [fulfillment] = await eventually(shopify_fulfilled, "a Shopify fulfillment", poke=stock_feed(engine))
        carrier, number = tracking["shopify"]
        assert fulfillment["tracking_info"] == [{"company": carrier, "number": number, "url": None}]
        assert [(line["sku"], line["quantity"]) for line in fulfillment["line_items"]] == [(TEE, 2)]

        async def woo_completed() -> dict[str, Any] | None:
            seen = await sandbox("GET", f"{channels.woocommerce}/_sandbox/orders/{orders['woocommerce'].external_id}")
            return seen if seen["status"] == "completed" else None

        woo = await eventually(woo_completed, "the WooCommerce order completed", poke=stock_feed(engine))
        carrier, number = tracking["woocommerce"]
        [note] = woo["notes"]
        assert note["customer_note"] and carrier in note["note"] and number in note["note"]

        [bol_shipment] = await eventually(
            lambda: sandbox("GET", f"{channels.bol}/_sandbox/shipments"), "a bol shipment", poke=stock_feed(engine)
        )
        carrier, number = tracking["bol"]
        assert bol_shipment["transport"] == {"transporterCode": "OTHER", "trackAndTrace": number}
        bol_id = orders["bol"].external_id
        assert sorted((i["orderItemId"], i["quantity"]) for i in bol_shipment["orderItems"]) == [
            (f"{bol_id}0", 3),
            (f"{bol_id}1", 2),
        ]

        [amazon_shipment] = await eventually(
            lambda: sandbox("GET", f"{channels.amazon}/_sandbox/shipments"),
            "an Amazon shipment confirmation",
            poke=stock_feed(engine),
        )
        carrier, number = tracking["amazon"]
        detail = amazon_shipment["packageDetail"]
        assert amazon_shipment["orderId"] == orders["amazon"].external_id
        assert (detail["carrierCode"], detail["carrierName"], detail["trackingNumber"]) == ("Other", carrier, number)
        assert sorted((i["orderItemId"], i["quantity"]) for i in detail["orderItems"]) == [
            ("61840213977435", 2),
            ("61840213977447", 3),
        ]

    api_settings = load_settings(database_url=db.url, admin_token="t0ken", temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(api_settings)) as api:
        for order in orders.values():
            page = api.get(f"/orders/{order.order_id}", headers={"Authorization": "Bearer t0ken"}).json()
            assert page["shipments"][0]["channel_notified_at"] is not None
            assert "channel_notified" in [event["kind"] for event in page["events"]]


# -- the stock feed stays replayable ---------------------------------------------------------------


async def test_the_stock_feed_delivers_every_outbox_in_one_activity_and_replays(temporal_client, sqlite_database):
    db = sqlite_database
    add_location(db.session_factory, "AMS")
    stock(db.session_factory, "AMS", {TEE: 1})
    # Each activity of the feed runs passes for a window: a short one, so three complete here.
    async with running_engine(temporal_client, db, stock_feed=True, stock_feed_window=1) as engine:
        feed = stock_feed(engine)
        await eventually(lambda: _activities_done(feed, 3), "three activities over every outbox")
    await record_history(feed, "stock_feed_passes")  # terminated by now: a history that ends
    assert await _activity_types(feed) == {"deliver_outboxes"}


async def _activity_types(handle: WorkflowHandle[Any, Any]) -> set[str]:
    history = await handle.fetch_history()
    return {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }


async def _activities_done(handle: WorkflowHandle[Any, Any], count: int) -> bool:
    history = await handle.fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for e in history.events) >= count
