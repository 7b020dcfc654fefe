"""Every sales channel end to end, as a retailer runs it: the engine as real processes (worker and
API) pointed at each channel's sandbox by its base-URL settings, exactly as at the real services.

Per channel: a realistic multi-line order in the channel's documented format (the fixtures under
tests/unit/data) reaches SHIPPED, the other channels' stock endpoints are told the lower numbers,
and the channel that sold it receives the shipment confirmation with the tracking number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ops.temporal_dev import DevServer
from sandboxes import amazon as amazon_sandbox
from sandboxes import bol as bol_sandbox
from sandboxes import shopify as shopify_sandbox
from sandboxes import woocommerce as woocommerce_sandbox
from sandboxes.server import serve
from tests.channels.factories import (
    amazon_settings,
    bol_settings,
    channel_payload,
    shopify_settings,
    woocommerce_settings,
)
from tests.e2e.conftest import SHOPIFY_SECRET, System, _running_system

WOOCOMMERCE_SECRET = "e2e-woocommerce-secret"
POS_KEY = "e2e-pos-key"
WEBSHOP_KEY = "e2e-webshop-key"
AMAZON_SELLER = "A2E2ESELLER01"
AMAZON_DE = "A1PA6795UKMFR9"
STOCK_PER_SKU = 10
CHANNEL_STOCK_SKUS = ("shopify", "woocommerce", "bol", "amazon")


@dataclass
class Sandboxes:
    shopify: str
    woocommerce: str
    bol: str
    amazon: str


@dataclass
class Listed:
    """One SKU as every channel knows it."""

    sku: str
    ean: str
    bol_offer: str
    woo_product: int


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    with ExitStack() as stack:
        yield Sandboxes(
            shopify=stack.enter_context(serve(shopify_sandbox.create_app())),
            woocommerce=stack.enter_context(serve(woocommerce_sandbox.create_app())),
            bol=stack.enter_context(serve(bol_sandbox.create_app())),
            amazon=stack.enter_context(serve(amazon_sandbox.create_app())),
        )


@pytest.fixture(scope="module", params=["postgresql"])
def system(
    request: pytest.FixtureRequest,
    temporal_server: DevServer,
    tmp_path_factory: pytest.TempPathFactory,
    sandboxes: Sandboxes,
) -> Iterator[System]:
    """The engine with every channel's credentials set, each base URL at its sandbox."""
    yield from _running_system(
        request,
        temporal_server,
        tmp_path_factory,
        {
            **{
                f"OMS_{name.upper()}": value
                for name, value in {
                    **shopify_settings(sandboxes.shopify),
                    **woocommerce_settings(sandboxes.woocommerce),
                    **bol_settings(sandboxes.bol),
                    **amazon_settings(sandboxes.amazon, AMAZON_DE, seller_id=AMAZON_SELLER),
                }.items()
            },
            "OMS_WOOCOMMERCE_WEBHOOK_SECRET": WOOCOMMERCE_SECRET,
            "OMS_CHANNEL_POLL_INTERVAL": "2",
            "OMS_POS_API_KEY": POS_KEY,
            "OMS_WEBSHOP_API_KEY": WEBSHOP_KEY,
        },
    )


# --- helpers -----------------------------------------------------------------------------------------------------


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=str).encode()


def unique() -> str:
    return uuid.uuid4().hex[:8].upper()


def ean13() -> str:
    body = "87" + "".join(random.choices("0123456789", k=10))
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def eventually(probe: Callable[[], Any], what: str, timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen (last seen: {last!r})")


def signed(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def stock_everywhere(system: System, sandboxes: Sandboxes, skus: list[str], *, location_kind: str = "warehouse") -> str:
    """A location holding STOCK_PER_SKU of each SKU, and each SKU listed on every channel."""
    location = f"{location_kind[:2].upper()}-{unique()}"
    response = system.client.post(
        "/locations",
        json={
            "location_id": location,
            "name": f"E2E {location_kind}",
            "kind": location_kind,
            "country": "NL",
            "postcode": "3511 AB",
            "latitude": 52.09,
            "longitude": 5.12,
        },
    )
    assert response.status_code in (200, 201), response.text
    for sku in skus:
        listed = list_everywhere(system, sandboxes, sku)
        response = system.client.post(
            "/inventory/adjustments",
            json={"location_id": location, "sku": listed.sku, "delta": STOCK_PER_SKU, "reason": "receipt"},
        )
        assert response.status_code == 201, response.text
    return location


LISTED: dict[str, Listed] = {}


def list_everywhere(system: System, sandboxes: Sandboxes, sku: str) -> Listed:
    ean, offer = ean13(), str(uuid.uuid4())
    response = system.client.put(
        f"/catalogue/{sku}", json={"name": sku.title(), "ean": ean, "listings": {"bol": offer, "amazon": sku}}
    )
    assert response.status_code == 200, response.text
    httpx.post(f"{sandboxes.shopify}/_sandbox/products", json={"sku": sku, "available": 0}).raise_for_status()
    [product] = httpx.post(
        f"{sandboxes.woocommerce}/_sandbox/products",
        json={"sku": sku, "name": sku.title(), "manage_stock": True, "stock_quantity": 0},
    ).json()
    httpx.post(
        f"{sandboxes.amazon}/_sandbox/listings", json={"sellerId": AMAZON_SELLER, "sku": sku, "quantity": 0}
    ).raise_for_status()
    LISTED[sku] = Listed(sku, ean, offer, int(product["id"]))
    return LISTED[sku]


def channel_stock(sandboxes: Sandboxes, channel: str, sku: str) -> int | None:
    """What a channel's own stock endpoint last heard for one SKU (None: nothing yet)."""
    listed = LISTED[sku]
    if channel == "shopify":
        levels = httpx.get(f"{sandboxes.shopify}/_sandbox/inventory").json()["levels"]
        mine = [level["available"] for level in levels if level["sku"] == sku]
        return mine[0] if mine else None
    if channel == "woocommerce":
        product = httpx.get(f"{sandboxes.woocommerce}/_sandbox/products/{listed.woo_product}").json()
        return product["stock_quantity"]
    if channel == "bol":
        updates = httpx.get(f"{sandboxes.bol}/_sandbox/stock").json().get(listed.bol_offer, [])
        return updates[-1]["amount"] if updates else None
    listing = httpx.get(f"{sandboxes.amazon}/_sandbox/listings").json().get(f"{AMAZON_SELLER}/{sku}")
    return listing["quantity"] if listing else None


def assert_stock_lowered(sandboxes: Sandboxes, sold: dict[str, int], channels: tuple[str, ...]) -> None:
    expected = {(channel, sku): STOCK_PER_SKU - quantity for channel in channels for sku, quantity in sold.items()}
    deadline = time.monotonic() + 45
    while True:
        told = {key: channel_stock(sandboxes, *key) for key in expected}
        if told == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"channels were told {told}, expected {expected}")
        time.sleep(0.3)


def shipped(system: System, order_id: str) -> dict[str, Any]:
    order = system.wait_for_status(order_id, "SHIPPED", timeout=60)
    assert order["shipments"], order
    for shipment in order["shipments"]:
        assert shipment["tracking_number"], shipment
    return order


def with_skus(payload: Any, renames: dict[str, str]) -> Any:
    text = json.dumps(payload, default=str)
    for old, new in renames.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return json.loads(text, parse_float=Decimal)


# --- the channels ------------------------------------------------------------------------------------------------


def test_shopify_order_from_the_webhook_to_a_fulfillment_with_tracking(system: System, sandboxes: Sandboxes):
    tag = unique()
    payload = channel_payload("shopify_order.json")
    renames = {item["sku"]: f"{item['sku']}-{tag}" for item in payload["line_items"]}
    payload = with_skus(payload, renames)
    payload["id"] = random.randint(10**12, 10**13)
    stock_everywhere(system, sandboxes, list(renames.values()))
    httpx.post(f"{sandboxes.shopify}/_sandbox/orders", content=dumps(payload)).raise_for_status()

    body = dumps(payload)
    response = httpx.post(
        f"{system.api}/webhooks/shopify",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signed(SHOPIFY_SECRET, body),
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 202, response.text
    order = shipped(system, response.json()["order_id"])

    sold = {item["sku"]: item["quantity"] for item in payload["line_items"]}
    assert_stock_lowered(sandboxes, sold, ("woocommerce", "bol", "amazon"))
    tracking = {shipment["tracking_number"] for shipment in order["shipments"]}
    fulfilments = eventually(
        lambda: [
            f
            for f in httpx.get(f"{sandboxes.shopify}/_sandbox/fulfillments").json()
            if tracking & set(json.dumps(f).split('"'))
        ],
        "a Shopify fulfillment with our tracking number",
    )
    assert fulfilments


def test_woocommerce_order_from_the_webhook_to_a_completed_order_with_a_tracking_note(
    system: System, sandboxes: Sandboxes
):
    tag = unique()
    payload = channel_payload("woocommerce/order_tax_inclusive.json")
    renames = {item["sku"]: f"{item['sku']}-{tag}" for item in payload["line_items"]}
    payload = with_skus(payload, renames)
    payload["id"] = random.randint(10**5, 10**7)
    stock_everywhere(system, sandboxes, list(renames.values()))
    httpx.post(f"{sandboxes.woocommerce}/_sandbox/orders", content=dumps(payload)).raise_for_status()

    body = dumps(payload)
    response = httpx.post(
        f"{system.api}/webhooks/woocommerce",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": "created",
            "X-WC-Webhook-Signature": signed(WOOCOMMERCE_SECRET, body),
            "X-WC-Webhook-ID": "7",
            "X-WC-Webhook-Delivery-ID": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 202, response.text
    order = shipped(system, response.json()["order_id"])

    sold = {item["sku"]: item["quantity"] for item in payload["line_items"]}
    assert_stock_lowered(sandboxes, sold, ("shopify", "bol", "amazon"))
    tracking = order["shipments"][0]["tracking_number"]
    completed = eventually(
        lambda: httpx.get(f"{sandboxes.woocommerce}/_sandbox/orders/{payload['id']}").json(),
        "the WooCommerce order read back",
    )
    eventually(
        lambda: httpx.get(f"{sandboxes.woocommerce}/_sandbox/orders/{payload['id']}").json()["status"] == "completed",
        f"the WooCommerce order completed (was {completed['status']})",
    )
    notes = httpx.get(f"{sandboxes.woocommerce}/_sandbox/orders/{payload['id']}").json()["notes"]
    assert any(tracking in note["note"] for note in notes), notes


def test_bol_order_pulled_by_ean_to_a_shipment_with_transporter_and_track_and_trace(
    system: System, sandboxes: Sandboxes
):
    tag = unique()
    payload = channel_payload("bol/order_fbr.json")
    payload["orderId"] = str(random.randint(10**9, 10**10))
    skus = {}
    for item in payload["orderItems"]:
        item["orderItemId"] = str(random.randint(10**9, 10**10))
        sku = f"{item['offer']['reference']}-{tag}"
        skus[item["orderItemId"]] = sku
    stock_everywhere(system, sandboxes, list(skus.values()))
    for item in payload["orderItems"]:  # bol names products by EAN: ours, from the catalogue
        listed = LISTED[skus[item["orderItemId"]]]
        item["product"]["ean"], item["offer"]["offerId"] = listed.ean, listed.bol_offer
        item["offer"]["reference"] = listed.sku
    payload["orderPlacedDateTime"] = datetime.now(UTC).isoformat(timespec="seconds")
    for item in payload["orderItems"]:
        item["latestChangedDateTime"] = payload["orderPlacedDateTime"]
    httpx.post(f"{sandboxes.bol}/_sandbox/orders", content=dumps(payload)).raise_for_status()

    order_id = f"order-bol-{payload['orderId']}"
    order = shipped(system, order_id)  # pulled by the schedule, not pushed

    sold: dict[str, int] = {}
    for line in order["lines"]:
        sold[line["sku"]] = sold.get(line["sku"], 0) + line["quantity"]
    assert_stock_lowered(sandboxes, sold, ("shopify", "woocommerce", "amazon"))
    tracking = {shipment["tracking_number"] for shipment in order["shipments"]}
    ours = {item["orderItemId"] for item in payload["orderItems"]}
    confirmations = eventually(
        lambda: [
            s
            for s in httpx.get(f"{sandboxes.bol}/_sandbox/shipments").json()
            if {i["orderItemId"] for i in s["orderItems"]} & ours
        ],
        "a bol.com shipment for the order's items",
    )
    for confirmation in confirmations:
        assert confirmation["transport"]["transporterCode"]
        assert confirmation["transport"]["trackAndTrace"] in tracking


def test_amazon_mfn_order_pulled_to_a_confirmed_shipment(system: System, sandboxes: Sandboxes):
    tag = unique()
    payload = channel_payload("amazon/order_eu_mfn.json")
    order_number = f"302-{random.randint(10**6, 10**7 - 1)}-{random.randint(10**6, 10**7 - 1)}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload["order"].update(AmazonOrderId=order_number, PurchaseDate=stamp, LastUpdateDate=stamp)
    renames = {item["SellerSKU"]: f"{item['SellerSKU']}-{tag}" for item in payload["items"]}
    payload = with_skus(payload, renames)
    stock_everywhere(system, sandboxes, list(renames.values()))
    httpx.post(f"{sandboxes.amazon}/_sandbox/orders", content=dumps(payload)).raise_for_status()

    order = shipped(system, f"order-amazon-{order_number}")

    sold = {item["SellerSKU"]: item["QuantityOrdered"] for item in payload["items"]}
    assert_stock_lowered(sandboxes, sold, ("shopify", "woocommerce", "bol"))
    tracking = {shipment["tracking_number"] for shipment in order["shipments"]}
    confirmations = eventually(
        lambda: [
            s for s in httpx.get(f"{sandboxes.amazon}/_sandbox/shipments").json() if order_number in json.dumps(s)
        ],
        "an Amazon confirmShipment for the order",
    )
    assert tracking & set(json.dumps(confirmations).split('"'))


def test_pos_counter_sale_moves_stock_and_every_channel_hears_of_it(system: System, sandboxes: Sandboxes):
    tag = unique()
    skus = [f"TEE-{tag}", f"MUG-{tag}"]
    store = stock_everywhere(system, sandboxes, skus, location_kind="store")
    response = httpx.post(
        f"{system.api}/orders",
        headers={"Authorization": f"Bearer {POS_KEY}"},
        json={
            "channel": "pos",
            "external_id": f"till-3-{tag}",
            "currency": "EUR",
            "lines": [
                {"sku": skus[0], "quantity": 2, "unit_price": {"amount_minor": 1995, "currency": "EUR"}},
                {"sku": skus[1], "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}},
            ],
            "payment_collected": True,
            "fulfilled_by": "counter",
            "pickup_location_id": store,
        },
    )
    assert response.status_code == 202, response.text
    order = system.wait_for_status(response.json()["order_id"], "SHIPPED", timeout=60)
    assert order["shipments"] == []  # nothing to pick, pack or ship: it left over the counter
    assert_stock_lowered(sandboxes, {skus[0]: 2, skus[1]: 1}, CHANNEL_STOCK_SKUS)
    levels = system.client.get(f"/inventory/{skus[0]}").json()["locations"]
    assert [(lv["on_hand"], lv["reserved"]) for lv in levels if lv["location_id"] == store] == [(8, 0)]


def test_webshop_order_with_its_own_key_is_shipped_and_every_channel_hears_of_it(system: System, sandboxes: Sandboxes):
    tag = unique()
    skus = [f"SOCK-{tag}", f"CAP-{tag}"]
    stock_everywhere(system, sandboxes, skus)
    order = {
        "channel": "webshop",
        "external_id": f"WS-{tag}",
        "currency": "EUR",
        "lines": [
            {"sku": skus[0], "quantity": 3, "unit_price": {"amount_minor": 899, "currency": "EUR"}},
            {"sku": skus[1], "quantity": 1, "unit_price": {"amount_minor": 2450, "currency": "EUR"}},
        ],
        "shipping": {"amount_minor": 495, "currency": "EUR"},
        "shipping_address": {
            "name": "Sam",
            "line1": "Oudegracht 1",
            "city": "Utrecht",
            "postcode": "3511 AB",
            "country": "NL",
        },
        "payment_method": "pm_card_visa",
    }
    refused = httpx.post(
        f"{system.api}/orders", headers={"Authorization": f"Bearer {WEBSHOP_KEY}"}, json={**order, "channel": "pos"}
    )
    assert refused.status_code == 403, refused.text  # a web shop key creates web shop orders only
    response = httpx.post(f"{system.api}/orders", headers={"Authorization": f"Bearer {WEBSHOP_KEY}"}, json=order)
    assert response.status_code == 202, response.text
    shipped(system, response.json()["order_id"])
    assert_stock_lowered(sandboxes, {skus[0]: 3, skus[1]: 1}, CHANNEL_STOCK_SKUS)


def test_bol_return_pulled_received_restocked_and_handled_back_at_bol(system: System, sandboxes: Sandboxes):
    """Issue 15 item 4 end to end: a customer's return registered at bol is pulled on the channel's
    schedule, opened on its order, received and judged at our warehouse (one unit back on the shelf,
    one scrapped) and handled back at bol as received; bol keeps the money side."""
    tag = unique()
    payload = channel_payload("bol/order_fbr.json")
    payload["orderId"] = str(random.randint(10**9, 10**10))
    payload["orderItems"] = payload["orderItems"][:1]  # 3 x one EAN
    item = payload["orderItems"][0]
    item["orderItemId"] = str(random.randint(10**9, 10**10))
    sku = f"{item['offer']['reference']}-{tag}"
    location = stock_everywhere(system, sandboxes, [sku])
    listed = LISTED[sku]
    item["product"]["ean"], item["offer"]["offerId"], item["offer"]["reference"] = listed.ean, listed.bol_offer, sku
    payload["orderPlacedDateTime"] = datetime.now(UTC).isoformat(timespec="seconds")
    item["latestChangedDateTime"] = payload["orderPlacedDateTime"]
    httpx.post(f"{sandboxes.bol}/_sandbox/orders", content=dumps(payload)).raise_for_status()
    order_id = f"order-bol-{payload['orderId']}"
    shipped(system, order_id)

    def on_hand() -> int:
        stock = system.client.get(f"/inventory/{sku}").json()
        return sum(row["on_hand"] for row in stock["locations"] if row["location_id"] == location)

    after_shipping = on_hand()
    registered = httpx.post(
        f"{sandboxes.bol}/_sandbox/returns",
        json={"orderId": payload["orderId"], "ean": listed.ean, "quantity": 2, "mainReason": "Verkeerd besteld"},
    ).json()
    rma = registered["returnItems"][0]["rmaId"]
    return_id = f"return-{order_id}-bol-{rma}"
    opened = eventually(
        lambda: (lambda r: r.json() if r.status_code == 200 else None)(system.client.get(f"/returns/{return_id}")),
        "the bol return opened on its order",
    )
    assert (opened["source"], opened["external_rma"], opened["lines"]) == ("bol", rma, {sku: 2})

    received = system.client.post(
        f"/returns/{return_id}/receive",
        json={
            "location_id": location,
            "lines": [
                {"sku": sku, "quantity": 1, "condition": "as_new"},
                {"sku": sku, "quantity": 1, "condition": "damaged"},
            ],
        },
    )
    assert received.status_code == 200, received.text
    disposed = system.client.post(
        f"/returns/{return_id}/dispose",
        json={
            "lines": [
                {"sku": sku, "quantity": 1, "disposition": "restock"},
                {"sku": sku, "quantity": 1, "disposition": "scrap", "reason": "torn seam"},
            ]
        },
    )
    assert disposed.status_code == 200, disposed.text

    handled = eventually(
        lambda: [h for h in httpx.get(f"{sandboxes.bol}/_sandbox/return-handlings").json() if h["rmaId"] == rma],
        "the return handled back at bol",
    )
    assert handled == [{"rmaId": rma, "handlingResult": "RETURN_RECEIVED", "quantityReturned": 2}]
    assert on_hand() == after_shipping + 1  # the sellable unit is back on the shelf, the scrapped one is not
    listed_at_bol = httpx.get(
        f"{sandboxes.bol}/retailer/returns/{registered['returnId']}",
        headers={"Accept": bol_sandbox.MEDIA_TYPE, "Authorization": f"Bearer {bol_token(sandboxes.bol)}"},
    ).json()
    assert listed_at_bol["returnItems"][0]["handled"] is True
    settled = eventually(
        lambda: (lambda r: r if r["state"] == "RESOLVED" else None)(system.client.get(f"/returns/{return_id}").json()),
        "the return resolved",
    )
    assert settled["status"] == "REFUND_ON_CHANNEL"  # bol refunds its customer, not us


def bol_token(url: str) -> str:
    basic = base64.b64encode(f"{bol_sandbox.CLIENT_ID}:{bol_sandbox.CLIENT_SECRET}".encode()).decode()
    response = httpx.post(f"{url}/token?grant_type=client_credentials", headers={"Authorization": f"Basic {basic}"})
    token: str = response.json()["access_token"]
    return token
