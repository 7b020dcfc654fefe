"""Shared builders for the channel and notice tests: the channels' own payloads, orders a channel sold
and their rows, the clients that talk to each channel's sandbox and the settings that connect an engine
to it, notices, and pulling a source dry. (Sandbox fixtures: tests.channels.sandboxes.)"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from domain.channel_notices import ShipmentNotice, ShippedLine
from domain.money import Money
from domain.order import Order
from integrations.channels.amazon.client import AmazonClient
from integrations.channels.base import OrderSource, PulledOrder
from integrations.channels.bol.client import BolClient
from integrations.channels.shopify.client import ShopifyAdminClient
from integrations.channels.woocommerce.client import WooCommerceClient
from persistence.db import SessionFactory
from persistence.models import CancellationNoticeOutbox, OrderEvent, OrderRecord, ShipmentNoticeOutbox
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from sandboxes import amazon as amazon_sandbox
from sandboxes import bol as bol_sandbox
from sandboxes import shopify as shopify_sandbox
from sandboxes import woocommerce as woo_sandbox
from tests.factories import make_order

DATA = Path(__file__).resolve().parents[1] / "unit" / "data"
SANDBOX_TIMEOUT = 5.0


# --- the channels' own payloads ------------------------------------------------------------------------------------


def channel_payload(name: str) -> dict[str, Any]:
    """A stored payload (`tests/unit/data/<name>`, e.g. "bol/order_fbr.json") as a channel client parses
    it: every JSON number with a fraction a Decimal, never a float."""
    payload: dict[str, Any] = json.loads((DATA / name).read_text(), parse_float=Decimal)
    return payload


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


# --- orders a channel sold, and their rows --------------------------------------------------------------------------


def channel_order(channel: str, lines: Sequence[tuple[str, int, str]], external_id: str | None = None) -> Order:
    """An order from `channel`; lines: (sku, quantity, the channel's line id), 10.00 EUR a unit."""
    order = make_order([(sku, qty, 1000) for sku, qty, _ in lines], channel=channel, external_id=external_id)
    with_ids = tuple(
        dataclasses.replace(line, external_line_id=line_id)
        for line, (_, _, line_id) in zip(order.lines, lines, strict=True)
    )
    return dataclasses.replace(order, lines=with_ids)


def record(session_factory: SessionFactory, order: Order, *, fulfilled_by: str | None = None) -> str:
    """The order's rows, as intake records them (`fulfilled_by`: who fulfils it, when not us); its id."""
    with UnitOfWork(session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.session.flush()
        if fulfilled_by is not None:
            uow.session.execute(
                update(OrderRecord).where(OrderRecord.order_id == order.order_id).values(fulfilled_by=fulfilled_by)
            )
        uow.commit()
    return order.order_id


def timeline(session_factory: SessionFactory, order_id: str, kind: str) -> list[str]:
    """The details of the order's `kind` events, oldest first."""
    with UnitOfWork(session_factory) as uow:
        rows = uow.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        return [event.detail for event in rows if event.kind == kind]


def retry_due(
    session_factory: SessionFactory, model: type[ShipmentNoticeOutbox | CancellationNoticeOutbox], row_id: int
) -> None:
    """Back-date a refused notice, so its first retry falls due now."""
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(
            update(model).where(model.id == row_id).values(created_at=datetime.now(UTC) - timedelta(minutes=2))
        )
        uow.commit()


# --- each channel's sandbox: a client, seeded orders, the settings that connect an engine --------------------------


def shopify_client(url: str, token: str = shopify_sandbox.SANDBOX_ACCESS_TOKEN, **options: Any) -> ShopifyAdminClient:
    return ShopifyAdminClient(url, token, **{"timeout": SANDBOX_TIMEOUT, **options})


def woocommerce_client(
    url: str, key: str = woo_sandbox.SANDBOX_KEY, secret: str = woo_sandbox.SANDBOX_SECRET, **options: Any
) -> WooCommerceClient:
    return WooCommerceClient(url, key, secret, **{"timeout": SANDBOX_TIMEOUT, **options})


def bol_client(url: str, secret: str = bol_sandbox.CLIENT_SECRET, **options: Any) -> BolClient:
    return BolClient(url, f"{url}/token", bol_sandbox.CLIENT_ID, secret, **{"timeout": SANDBOX_TIMEOUT, **options})


def amazon_client(url: str, secret: str = amazon_sandbox.CLIENT_SECRET) -> AmazonClient:
    return AmazonClient(
        url,
        f"{url}{amazon_sandbox.TOKEN_PATH}",
        amazon_sandbox.CLIENT_ID,
        secret,
        amazon_sandbox.REFRESH_TOKEN,
        timeout=httpx.Timeout(SANDBOX_TIMEOUT),
    )


def seed_shopify_order(url: str, order: Order) -> None:
    """The order on the Shopify sandbox, its line items under the order's channel line ids."""
    items = [{"id": int(line.external_line_id), "sku": line.sku, "quantity": line.quantity} for line in order.lines]
    httpx.post(f"{url}/_sandbox/orders", json={"id": int(order.external_id), "line_items": items}).raise_for_status()


def seed_bol_orders(url: str, *orders: dict[str, Any]) -> None:
    httpx.post(f"{url}/_sandbox/orders", json=list(orders)).raise_for_status()


def bol_order_items(order_id: str, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A bol order holding `items`, each one unit, nothing shipped or cancelled unless it says so."""
    defaults = {"quantity": 1, "quantityShipped": 0, "quantityCancelled": 0, "cancellationRequest": False}
    return {"orderId": order_id, "orderItems": [{**defaults, **item} for item in items]}


def shopify_settings(url: str) -> dict[str, Any]:
    return {
        "shopify_shop_url": url,
        "shopify_access_token": shopify_sandbox.SANDBOX_ACCESS_TOKEN,
        "shopify_location_id": str(shopify_sandbox.SANDBOX_LOCATION_ID),
    }


def woocommerce_settings(url: str) -> dict[str, Any]:
    return {
        "woocommerce_url": url,
        "woocommerce_consumer_key": woo_sandbox.SANDBOX_KEY,
        "woocommerce_consumer_secret": woo_sandbox.SANDBOX_SECRET,
    }


def bol_settings(url: str, secret: str = bol_sandbox.CLIENT_SECRET) -> dict[str, Any]:
    return {
        "bol_api_url": url,
        "bol_auth_url": f"{url}/token",
        "bol_client_id": bol_sandbox.CLIENT_ID,
        "bol_client_secret": secret,
    }


def amazon_settings(url: str, marketplaces: str, *, seller_id: str = "") -> dict[str, Any]:
    settings = {
        "amazon_spapi_url": url,
        "amazon_lwa_url": f"{url}{amazon_sandbox.TOKEN_PATH}",
        "amazon_client_id": amazon_sandbox.CLIENT_ID,
        "amazon_client_secret": amazon_sandbox.CLIENT_SECRET,
        "amazon_refresh_token": amazon_sandbox.REFRESH_TOKEN,
        "amazon_marketplace_ids": marketplaces,
    }
    return {**settings, "amazon_seller_id": seller_id} if seller_id else settings


# --- notices and pulls ---------------------------------------------------------------------------------------------


def shipment_notice(
    channel: str,
    order_external_id: str,
    *lines: ShippedLine,
    carrier: str = "PostNL",
    tracking: str = "3SOMS0001",
    shipped_at: datetime | None = None,
    extra: dict[str, str] | None = None,
    shipment_id: str = "",
) -> ShipmentNotice:
    """A notice for one shipment of the channel's order, from AMS unless `shipment_id` says otherwise."""
    return ShipmentNotice(
        order_external_id=order_external_id,
        shipment_id=shipment_id or f"shipment-order-{channel}-{order_external_id}-AMS",
        lines=lines,
        carrier=carrier,
        tracking_number=tracking,
        shipped_at=shipped_at or datetime.now(UTC),
        extra=extra or {},
    )


def pull_all(source: OrderSource, cursor: str | None, *, limit: int = 50) -> tuple[list[PulledOrder], str | None, int]:
    """Pull until the channel has nothing more right now: the orders, the cursor to store, the pulls made."""
    orders: list[PulledOrder] = []
    for pulls in range(1, limit):
        page = source.pull(cursor)
        orders += page.orders
        cursor = page.cursor
        if not page.more:
            return orders, cursor, pulls
    raise AssertionError("the source never finished")
