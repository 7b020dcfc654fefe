"""The WooCommerce REST client against the sandbox shop over real HTTP: stock, shipment notes, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from domain.channel_notices import ShipmentNotice, ShippedLine
from integrations.channels.errors import ChannelAuthFailed, ChannelRateLimited, ChannelRejected, ChannelUnavailable
from integrations.channels.http import retry_after_seconds
from integrations.channels.woocommerce.client import WooCommerceClient
from integrations.channels.woocommerce.shipments import WooCommerceShipmentConfirmer
from integrations.channels.woocommerce.stock_feed import ProductRef, WooCommerceStockFeed, find_by_sku
from ops.temporal_dev import free_port
from sandboxes.woocommerce import SANDBOX_KEY, SANDBOX_SECRET
from tests.channels.factories import shipment_notice, woocommerce_client


@pytest.fixture
def shop(woocommerce_url: str) -> Iterator[httpx.Client]:
    """The sandbox's base URL, as a client for its /_sandbox control endpoints."""
    with httpx.Client(base_url=woocommerce_url, timeout=5) as control:
        yield control


@pytest.fixture
def client(shop: httpx.Client) -> Iterator[WooCommerceClient]:
    with woocommerce_client(str(shop.base_url)) as woo:
        yield woo


def _seed(shop: httpx.Client) -> dict[str, int]:
    products = shop.post(
        "/_sandbox/products",
        json=[
            {"id": 93, "name": "Woo Single #1", "sku": "WOO-SINGLE-1"},
            {"id": 22, "name": "Ship Your Idea", "type": "variable", "sku": "SYI"},
            {"id": 23, "name": "Ship Your Idea - Black, M", "type": "variation", "parent_id": 22, "sku": "SYI-BLACK-M"},
            {"id": 24, "name": "Ship Your Idea - Black, L", "type": "variation", "parent_id": 22, "sku": "SYI-BLACK-L"},
        ],
    )
    assert products.status_code == 201
    return {product["sku"]: product["id"] for product in products.json()}


def _product(shop: httpx.Client, product_id: int) -> dict:
    return shop.get(f"/_sandbox/products/{product_id}").json()


def _api_calls(shop: httpx.Client) -> list[str]:
    return shop.get("/_sandbox/requests").json()


# --- stock ---------------------------------------------------------------------------------------------


def test_stock_of_a_simple_product_is_set_and_its_id_cached(shop, client):
    _seed(shop)
    feed = WooCommerceStockFeed(client)
    feed.push("WOO-SINGLE-1", 7, sequence=1)
    product = _product(shop, 93)
    assert (product["manage_stock"], product["stock_quantity"], product["stock_status"]) == (True, 7, "instock")
    feed.push("WOO-SINGLE-1", 0, sequence=2)
    assert _product(shop, 93)["stock_quantity"] == 0 and _product(shop, 93)["stock_status"] == "outofstock"
    assert _api_calls(shop) == ["GET /products?sku=WOO-SINGLE-1&per_page=10", "PUT /products/93", "PUT /products/93"]


def test_stock_of_a_variation_goes_through_its_product(shop, client):
    _seed(shop)
    assert find_by_sku(client, "SYI-BLACK-M") == ProductRef(23, parent_id=22)
    WooCommerceStockFeed(client).push("SYI-BLACK-M", 4, sequence=1)
    assert _product(shop, 23)["stock_quantity"] == 4 and _product(shop, 23)["manage_stock"] is True
    assert _product(shop, 24)["stock_quantity"] is None
    assert _api_calls(shop)[-1] == "PUT /products/22/variations/23"


def test_a_variation_cannot_be_updated_on_the_products_endpoint(shop, client):
    _seed(shop)
    with pytest.raises(ChannelRejected, match="variations"):
        client.call("PUT", "/products/23", body={"stock_quantity": 1})


def test_a_sku_the_shop_does_not_list_is_skipped(shop, client):
    _seed(shop)
    WooCommerceStockFeed(client).push("NOT-SOLD-HERE", 5, sequence=1)
    assert [call for call in _api_calls(shop) if call.startswith("PUT")] == []


def test_only_the_exact_sku_counts(shop, client):
    _seed(shop)
    # WooCommerce splits on commas and ignores case; neither may update another product.
    assert find_by_sku(client, "woo-single-1") is None
    assert find_by_sku(client, "SYI,WOO-SINGLE-1") is None
    assert find_by_sku(client, "SYI") == ProductRef(22)


def test_an_older_push_does_not_overwrite_a_newer_one_and_negative_is_zero(shop, client):
    _seed(shop)
    feed = WooCommerceStockFeed(client)
    feed.push("WOO-SINGLE-1", 9, sequence=5)
    feed.push("WOO-SINGLE-1", 3, sequence=4)
    assert _product(shop, 93)["stock_quantity"] == 9
    feed.push("WOO-SINGLE-1", -2, sequence=6)
    assert _product(shop, 93)["stock_quantity"] == 0


def test_a_product_recreated_under_a_new_id_is_found_again(shop, client):
    _seed(shop)
    feed = WooCommerceStockFeed(client)
    feed.push("WOO-SINGLE-1", 1, sequence=1)
    shop.post("/_sandbox/reset")
    shop.post("/_sandbox/products", json={"id": 94, "sku": "WOO-SINGLE-1"})
    feed.push("WOO-SINGLE-1", 2, sequence=2)
    assert _product(shop, 94)["stock_quantity"] == 2


# --- errors ---------------------------------------------------------------------------------------------


def test_429_is_rate_limited_with_retry_after(shop, client):
    _seed(shop)
    shop.post("/_sandbox/fail", json={"status": 429, "times": 1, "retry_after": "7"})
    with pytest.raises(ChannelRateLimited) as caught:
        WooCommerceStockFeed(client).push("WOO-SINGLE-1", 1, sequence=1)
    assert caught.value.retry_after == 7.0
    shop.post("/_sandbox/fail", json={"status": 429})
    with pytest.raises(ChannelRateLimited) as caught:
        find_by_sku(client, "WOO-SINGLE-1")
    assert caught.value.retry_after is None
    assert find_by_sku(client, "WOO-SINGLE-1") == ProductRef(93)  # failures were only the next calls


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(shop, client, status):
    shop.post("/_sandbox/fail", json={"status": status})
    with pytest.raises(ChannelUnavailable) as caught:
        find_by_sku(client, "WOO-SINGLE-1")
    assert not isinstance(caught.value, ChannelRateLimited)


def test_wrong_or_missing_credentials_fail_auth(shop):
    for key, secret in [("ck_wrong", SANDBOX_SECRET), (SANDBOX_KEY, "cs_wrong"), ("", "")]:
        with WooCommerceClient(str(shop.base_url), key, secret) as woo, pytest.raises(ChannelAuthFailed):
            find_by_sku(woo, "WOO-SINGLE-1")


def test_the_documented_query_string_auth_works_and_is_not_recorded(shop):
    _seed(shop)
    answer = shop.get(
        "/wp-json/wc/v3/products", params={"sku": "SYI", "consumer_key": SANDBOX_KEY, "consumer_secret": SANDBOX_SECRET}
    )
    assert answer.status_code == 200 and [p["id"] for p in answer.json()] == [22]
    assert _api_calls(shop) == ["GET /products?sku=SYI"]
    refused = shop.get("/wp-json/wc/v3/products")
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }


def test_a_403_is_auth_failed_and_other_4xx_rejected_with_the_shops_message(shop, client):
    shop.post("/_sandbox/fail", json={"status": 403})
    with pytest.raises(ChannelAuthFailed):
        find_by_sku(client, "X")
    with pytest.raises(ChannelRejected, match=r"Invalid ID\. \(woocommerce_rest_shop_order_invalid_id\)"):
        client.call("GET", "/orders/404404")
    _seed(shop)
    with pytest.raises(ChannelRejected, match="stock_quantity"):
        client.call("PUT", "/products/93", body={"stock_quantity": "lots"})


def test_network_errors_and_timeouts_are_unavailable():
    with (
        WooCommerceClient(f"http://127.0.0.1:{free_port()}", "k", "s", timeout=2) as woo,
        pytest.raises(ChannelUnavailable),
    ):
        woo.call("GET", "/products")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        WooCommerceClient("https://shop.test", "k", "s", transport=httpx.MockTransport(slow)) as woo,
        pytest.raises(ChannelUnavailable),
    ):
        woo.call("GET", "/products")


def test_an_html_answer_is_unavailable_not_a_crash():
    def maintenance(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Briefly unavailable for scheduled maintenance.</html>")

    transport = httpx.MockTransport(maintenance)
    with (
        WooCommerceClient("https://shop.test", "k", "s", transport=transport) as woo,
        pytest.raises(ChannelUnavailable),
    ):
        woo.call("GET", "/products")


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: at once
    later = datetime.now(UTC).replace(microsecond=0).timestamp() + 120
    header = datetime.fromtimestamp(later, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 100 < (retry_after_seconds(header) or 0) <= 120


# --- shipments ------------------------------------------------------------------------------------------


def _notice(order_id: int, *, complete: bool, tracking: str = "3SABCD0123456789") -> ShipmentNotice:
    return shipment_notice(
        "woocommerce",
        str(order_id),
        ShippedLine("WOO-SINGLE-1", 2, "315"),
        tracking=tracking,
        shipped_at=datetime(2024, 5, 15, 9, 0, tzinfo=UTC),
        extra={"order_complete": "true"} if complete else {},
    )


def test_a_shipment_adds_one_customer_note_and_completes_the_order(shop, client):
    shop.post("/_sandbox/orders", json={"id": 1042, "status": "processing"})
    confirmer = WooCommerceShipmentConfirmer(client)
    confirmer.confirm_shipment(_notice(1042, complete=True))
    confirmer.confirm_shipment(_notice(1042, complete=True))  # the activity retried: no second note
    order = shop.get("/_sandbox/orders/1042").json()
    assert order["status"] == "completed"
    [note] = order["notes"]
    assert note["customer_note"] is True
    assert "PostNL" in note["note"] and "3SABCD0123456789" in note["note"]


def test_a_partial_shipment_only_adds_its_note(shop, client):
    shop.post("/_sandbox/orders", json={"id": 1043, "status": "processing"})
    confirmer = WooCommerceShipmentConfirmer(client)
    confirmer.confirm_shipment(_notice(1043, complete=False, tracking="TRACK-1"))
    assert shop.get("/_sandbox/orders/1043").json()["status"] == "processing"
    confirmer.confirm_shipment(_notice(1043, complete=True, tracking="TRACK-2"))
    order = shop.get("/_sandbox/orders/1043").json()
    assert order["status"] == "completed"
    assert sorted("TRACK-1" in n["note"] for n in order["notes"]) == [False, True]


def test_a_shipment_without_tracking_is_deduplicated_by_shipment_id(shop, client):
    shop.post("/_sandbox/orders", json={"id": 1044, "status": "processing"})
    confirmer = WooCommerceShipmentConfirmer(client)
    confirmer.confirm_shipment(_notice(1044, complete=False, tracking=""))
    confirmer.confirm_shipment(_notice(1044, complete=False, tracking=""))
    assert len(shop.get("/_sandbox/orders/1044").json()["notes"]) == 1


def test_an_order_the_merchant_cancelled_keeps_its_status(shop, client):
    shop.post("/_sandbox/orders", json={"id": 1045, "status": "cancelled"})
    WooCommerceShipmentConfirmer(client).confirm_shipment(_notice(1045, complete=True))
    order = shop.get("/_sandbox/orders/1045").json()
    assert order["status"] == "cancelled" and len(order["notes"]) == 1


def test_a_shipment_for_an_unknown_or_foreign_order_is_rejected(shop, client):
    confirmer = WooCommerceShipmentConfirmer(client)
    with pytest.raises(ChannelRejected, match="Invalid order ID"):
        confirmer.confirm_shipment(_notice(999, complete=True))
    foreign = ShipmentNotice("W-1", "s", (), "PostNL", "T", datetime.now(UTC))
    with pytest.raises(ChannelRejected):
        confirmer.confirm_shipment(foreign)
