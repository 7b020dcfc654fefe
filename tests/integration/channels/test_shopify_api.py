"""Shopify stock and status out, against the Shopify sandbox over real HTTP.

The sandbox enforces what the real API does for these calls (token, compare-quantity rule, open
fulfillment order lines, quantities not above what remains), so a wrong request fails here too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.channel_notices import ShipmentNotice, ShippedLine
from integrations.channels.errors import ChannelAuthFailed, ChannelRateLimited, ChannelRejected, ChannelUnavailable
from integrations.channels.http import retry_after_seconds
from integrations.channels.shopify.client import ShopifyAdminClient, ShopifyUserErrors, throttle_wait
from integrations.channels.shopify.fulfilment import ShopifyShipmentConfirmer
from integrations.channels.shopify.stock_feed import ShopifyStockFeed, sku_search
from ops.temporal_dev import free_port
from sandboxes.shopify import SANDBOX_ACCESS_TOKEN, SANDBOX_LOCATION_ID
from tests.channels.factories import channel_payload, shipment_notice, shopify_client

WEBHOOK_ORDER = channel_payload("shopify_order.json")
ORDER_ID = str(WEBHOOK_ORDER["id"])
TEE, MUG, SOCKS = WEBHOOK_ORDER["line_items"]  # TEE-ORG-BLK-M x2, MUG-STONE-350 x1, SOCK-MER-3PK-4346 x3


@pytest.fixture
def client(shopify_url: str) -> Iterator[ShopifyAdminClient]:
    with shopify_client(shopify_url) as admin:
        yield admin


def control(shopify_url: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = httpx.request(method, f"{shopify_url}/_sandbox/{path}", json=body, params=params, timeout=5)
    response.raise_for_status()
    return response.json()


def seed_order(shopify_url: str) -> dict[str, Any]:
    """The same JSON the orders/create webhook carried: Shopify opens one fulfillment order for it."""
    return control(shopify_url, "POST", "orders", json.loads(json.dumps(WEBHOOK_ORDER, default=str)))


def available(shopify_url: str, sku: str) -> list[int]:
    return [level["available"] for level in control(shopify_url, "GET", "inventory")["levels"] if level["sku"] == sku]


def notice(*lines: ShippedLine, tracking: str = "3SOMS0001", carrier: str = "PostNL") -> ShipmentNotice:
    shipped_at = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
    return shipment_notice("shopify", ORDER_ID, *lines, carrier=carrier, tracking=tracking, shipped_at=shipped_at)


def shipped(item: dict[str, Any], quantity: int | None = None, *, by_id: bool = True) -> ShippedLine:
    return ShippedLine(item["sku"], quantity or item["quantity"], str(item["id"]) if by_id else "")


def remaining(shopify_url: str) -> dict[str, tuple[str, int]]:
    [fo] = control(shopify_url, "GET", f"orders/{ORDER_ID}/fulfillment-orders")
    return {line["sku"]: (fo["status"], line["remaining"]) for line in fo["line_items"]}


# --- Stock out


def test_a_push_sets_the_available_level_and_a_later_push_overwrites_it(shopify_url, client):
    control(shopify_url, "POST", "products", {"sku": "TEE-ORG-BLK-M", "available": 40})
    feed = ShopifyStockFeed(client, SANDBOX_LOCATION_ID)

    feed.push("TEE-ORG-BLK-M", 7, 101)
    assert available(shopify_url, "TEE-ORG-BLK-M") == [7]
    feed.push("TEE-ORG-BLK-M", 3, 102)
    assert available(shopify_url, "TEE-ORG-BLK-M") == [3]

    adjustments = control(shopify_url, "GET", "inventory")["adjustments"]
    assert [(a["name"], a["reason"], a["delta"]) for a in adjustments] == [
        ("available", "correction", -33),
        ("available", "correction", -4),
    ]
    assert [a["reference_document_uri"] for a in adjustments] == ["gid://oms/StockFeed/101", "gid://oms/StockFeed/102"]
    # The variant is looked up once, then the cached inventory item is used.
    assert control(shopify_url, "GET", "calls") == [
        "productVariants",
        "inventorySetQuantities",
        "inventorySetQuantities",
    ]


def test_the_location_may_be_given_as_a_gid_and_negative_atp_is_sent_as_zero(shopify_url, client):
    control(shopify_url, "POST", "products", {"sku": "MUG-STONE-350", "available": 5})
    ShopifyStockFeed(client, f"gid://shopify/Location/{SANDBOX_LOCATION_ID}").push("MUG-STONE-350", -2, 7)
    assert available(shopify_url, "MUG-STONE-350") == [0]


def test_a_sku_not_listed_on_shopify_is_skipped_without_error(shopify_url, client):
    control(shopify_url, "POST", "products", {"sku": "TEE-ORG-BLK-M", "available": 4})
    feed = ShopifyStockFeed(client, SANDBOX_LOCATION_ID)

    feed.push("NOT-ON-SHOPIFY", 9, 1)
    feed.push("TEE-ORG-BLK", 9, 2)  # a prefix of a listed SKU is not that SKU

    assert control(shopify_url, "GET", "calls") == ["productVariants", "productVariants"]
    assert available(shopify_url, "TEE-ORG-BLK-M") == [4]


def test_a_sku_on_two_variants_is_refused_rather_than_counted_twice(shopify_url, client):
    control(shopify_url, "POST", "products", {"sku": "DUP-1"})
    control(shopify_url, "POST", "products", {"sku": "DUP-1"})
    with pytest.raises(ChannelRejected, match="2 Shopify variants"):
        ShopifyStockFeed(client, SANDBOX_LOCATION_ID).push("DUP-1", 1, 1)


def test_skus_with_search_syntax_characters_are_quoted_and_still_found(shopify_url, client):
    assert sku_search("TEE-ORG-BLK-M") == "sku:TEE-ORG-BLK-M"
    assert sku_search('BOX "XL":2') == 'sku:"BOX \\"XL\\":2"'
    control(shopify_url, "POST", "products", {"sku": 'BOX "XL":2'})
    ShopifyStockFeed(client, SANDBOX_LOCATION_ID).push('BOX "XL":2', 6, 1)
    assert available(shopify_url, 'BOX "XL":2') == [6]


def test_user_errors_become_rejections_with_shopifys_message(shopify_url, client):
    control(shopify_url, "POST", "products", {"sku": "ELSEWHERE", "stocked_at": []})
    with pytest.raises(ShopifyUserErrors, match="not stocked at the location") as refused:
        ShopifyStockFeed(client, SANDBOX_LOCATION_ID).push("ELSEWHERE", 1, 1)
    assert refused.value.codes == {"ITEM_NOT_STOCKED_AT_LOCATION"}
    assert isinstance(refused.value, ChannelRejected)


def test_a_newer_api_version_sends_change_from_quantity_and_an_idempotency_key(shopify_url):
    control(shopify_url, "POST", "products", {"sku": "TEE-ORG-BLK-M", "available": 1})
    with ShopifyAdminClient(shopify_url, SANDBOX_ACCESS_TOKEN, api_version="2026-04") as newer:
        ShopifyStockFeed(newer, SANDBOX_LOCATION_ID).push("TEE-ORG-BLK-M", 12, 5)
    assert available(shopify_url, "TEE-ORG-BLK-M") == [12]


# --- Status out


def test_a_shipment_becomes_a_fulfillment_of_the_right_lines_with_tracking(shopify_url, client):
    seeded = seed_order(shopify_url)
    ShopifyShipmentConfirmer(client).confirm_shipment(notice(shipped(TEE), shipped(MUG), shipped(SOCKS)))

    [fulfillment] = control(shopify_url, "GET", "fulfillments")
    [fo] = seeded["fulfillment_orders"]
    expected = {line["id"]: line["total"] for line in fo["line_items"]}
    assert {li["fulfillment_order_line_item_id"]: li["quantity"] for li in fulfillment["line_items"]} == expected
    assert {li["fulfillment_order_id"] for li in fulfillment["line_items"]} == {fo["id"]}
    assert fulfillment["tracking_info"] == [{"company": "PostNL", "number": "3SOMS0001", "url": None}]
    assert fulfillment["notify_customer"] is True
    assert fulfillment["order_id"] == f"gid://shopify/Order/{ORDER_ID}"
    assert set(remaining(shopify_url).values()) == {("CLOSED", 0)}


def test_lines_without_a_shopify_line_id_are_matched_by_sku(shopify_url, client):
    seed_order(shopify_url)
    confirmer = ShopifyShipmentConfirmer(client, notify_customer=False)
    confirmer.confirm_shipment(notice(shipped(SOCKS, 2, by_id=False)))

    [fulfillment] = control(shopify_url, "GET", "fulfillments")
    assert [(li["line_item_id"], li["quantity"]) for li in fulfillment["line_items"]] == [(SOCKS["id"], 2)]
    assert fulfillment["notify_customer"] is False


def test_a_partial_shipment_leaves_the_rest_open_and_the_next_one_closes_it(shopify_url, client):
    seed_order(shopify_url)
    confirmer = ShopifyShipmentConfirmer(client)

    confirmer.confirm_shipment(notice(shipped(TEE, 1), shipped(MUG)))
    assert remaining(shopify_url) == {
        "TEE-ORG-BLK-M": ("IN_PROGRESS", 1),
        "MUG-STONE-350": ("IN_PROGRESS", 0),
        "SOCK-MER-3PK-4346": ("IN_PROGRESS", 3),
    }

    confirmer.confirm_shipment(notice(shipped(TEE, 1), shipped(SOCKS), tracking="3SOMS0002"))
    assert set(remaining(shopify_url).values()) == {("CLOSED", 0)}
    assert [f["tracking_info"][0]["number"] for f in control(shopify_url, "GET", "fulfillments")] == [
        "3SOMS0001",
        "3SOMS0002",
    ]


def test_confirming_the_same_shipment_again_changes_nothing(shopify_url, client):
    seed_order(shopify_url)
    confirmer = ShopifyShipmentConfirmer(client)
    partial = notice(shipped(TEE, 1))
    everything = notice(shipped(MUG), shipped(SOCKS), shipped(TEE, 1), tracking="3SOMS0002")

    confirmer.confirm_shipment(partial)
    confirmer.confirm_shipment(partial)  # TEE still has 1 open: the tracking number says it is done
    confirmer.confirm_shipment(everything)
    confirmer.confirm_shipment(everything)  # nothing open any more

    assert len(control(shopify_url, "GET", "fulfillments")) == 2
    assert control(shopify_url, "GET", "calls").count("fulfillmentCreate") == 2
    assert set(remaining(shopify_url).values()) == {("CLOSED", 0)}


def test_an_order_shopify_does_not_have_is_rejected(shopify_url, client):
    with pytest.raises(ChannelRejected, match="no order"):
        ShopifyShipmentConfirmer(client).confirm_shipment(notice(shipped(TEE)))


# --- Error mapping


def test_graphql_throttling_is_a_rate_limit_with_the_wait_from_the_query_cost(shopify_url, client):
    control(
        shopify_url,
        "POST",
        "fail-next",
        {"graphql_error": "THROTTLED", "requested_cost": 752, "currently_available": 666, "restore_rate": 50.0},
    )
    with pytest.raises(ChannelRateLimited) as limited:
        client.graphql("query { shop { name } }")
    assert limited.value.retry_after == pytest.approx((752 - 666) / 50)


def test_a_429_without_retry_after_takes_the_wait_from_the_throttle_body(shopify_url, client):
    throttled = {"graphql_error": "THROTTLED", "status": 429, "requested_cost": 300, "currently_available": 100}
    control(shopify_url, "POST", "fail-next", {**throttled, "restore_rate": 100.0})
    with pytest.raises(ChannelRateLimited) as limited:
        client.graphql("query { shop { name } }")
    assert limited.value.retry_after == pytest.approx(2.0)


def test_429_is_a_rate_limit_with_retry_after_and_503_is_unavailable(shopify_url, client):
    control(shopify_url, "POST", "fail-next", {"status": 429, "retry_after": "2.0"})
    control(shopify_url, "POST", "fail-next", {"status": 503})
    feed = ShopifyStockFeed(client, SANDBOX_LOCATION_ID)

    with pytest.raises(ChannelRateLimited) as limited:
        feed.push("TEE-ORG-BLK-M", 1, 1)
    assert limited.value.retry_after == 2.0
    with pytest.raises(ChannelUnavailable) as unavailable:
        feed.push("TEE-ORG-BLK-M", 1, 1)
    assert not isinstance(unavailable.value, ChannelRateLimited)


def test_a_wrong_token_or_missing_scope_is_an_auth_failure(shopify_url):
    with (
        ShopifyAdminClient(shopify_url, "shpat_wrong") as wrong,
        pytest.raises(ChannelAuthFailed, match="Invalid API key or access token"),
    ):
        ShopifyShipmentConfirmer(wrong).confirm_shipment(notice(shipped(TEE)))
    control(shopify_url, "POST", "fail-next", {"graphql_error": "ACCESS_DENIED"})
    with ShopifyAdminClient(shopify_url, SANDBOX_ACCESS_TOKEN) as admin, pytest.raises(ChannelAuthFailed):
        admin.graphql("query { shop { name } }")


def test_other_4xx_and_unknown_fields_are_rejections(shopify_url, client):
    control(shopify_url, "POST", "fail-next", {"status": 404, "message": "Not Found"})
    with pytest.raises(ChannelRejected, match="404: Not Found"):
        client.graphql("query { shop { name } }")
    with pytest.raises(ChannelRejected, match="doesn't exist"):
        client.graphql("query { shop { name } }")


def test_no_answer_in_time_or_nobody_listening_is_unavailable(shopify_url):
    control(shopify_url, "POST", "fail-next", {"delay": 1.0})
    with ShopifyAdminClient(shopify_url, SANDBOX_ACCESS_TOKEN, timeout=0.2) as slow, pytest.raises(ChannelUnavailable):
        slow.graphql("query { shop { name } }")
    with ShopifyAdminClient(f"http://127.0.0.1:{free_port()}", "x") as nobody, pytest.raises(ChannelUnavailable):
        nobody.graphql("query { shop { name } }")


def test_wait_computations():
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    now = datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("Fri, 15 Mar 2024 09:00:30 GMT", now=now) == 30.0
    bucket = {"requestedQueryCost": 10, "throttleStatus": {"currentlyAvailable": 40, "restoreRate": 100}}
    assert throttle_wait({"cost": bucket}) == 0.01  # already enough: still wait for one point, never zero
    assert throttle_wait({}) is None
