"""The Amazon adapter against the SP-API sandbox over real HTTP: tokens, pulling with a cursor, shipment
confirmation, listings quantities and the error mapping."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.channel_notices import ShipmentNotice, ShippedLine
from integrations.channels import amazon
from integrations.channels.amazon.client import AmazonClient
from integrations.channels.amazon.listings import AmazonListingsStockFeed
from integrations.channels.amazon.orders import AmazonOrderSource
from integrations.channels.amazon.shipments import AmazonShipmentConfirmer
from integrations.channels.errors import ChannelAuthFailed, ChannelRateLimited, ChannelRejected, ChannelUnavailable
from ops.temporal_dev import free_port
from sandboxes import amazon as sandbox
from sandboxes.server import serve
from tests.channels.factories import amazon_client, channel_payload, pull_all, shipment_notice

DE = "A1PA6795UKMFR9"
SELLER = "A2SELLER0TEST1"


@pytest.fixture
def base_url() -> Iterator[str]:
    with serve(sandbox.create_app(page_size=2)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[AmazonClient]:
    with amazon_client(base_url) as client:
        yield client


def order_payload(order_id: str, updated: datetime, status: str = "Unshipped", items: int = 2) -> dict[str, Any]:
    payload = channel_payload("amazon/order_eu_mfn.json")
    payload["order"].update(AmazonOrderId=order_id, LastUpdateDate=_iso(updated), OrderStatus=status)
    extra = copy.deepcopy(payload["items"][1])
    for n in range(items - 2):
        payload["items"].append({**copy.deepcopy(extra), "OrderItemId": f"9{n:013d}"})
    return payload


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(base_url: str, payload: dict[str, Any]) -> None:
    httpx.post(f"{base_url}/_sandbox/orders", content=json.dumps(payload, default=str)).raise_for_status()


def fail_next(base_url: str, status: int, **options: Any) -> None:
    httpx.post(f"{base_url}/_sandbox/fail-next", json={"status": status, **options}).raise_for_status()


def calls(base_url: str, path: str) -> int:
    return sum(call["path"] == path for call in httpx.get(f"{base_url}/_sandbox/calls").json())


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- tokens and errors ---------------------------------------------------------------------------------------------


def test_one_token_serves_many_calls(base_url: str, client: AmazonClient) -> None:
    source = AmazonOrderSource(client, [DE])
    source.pull(None)
    source.pull(None)
    assert calls(base_url, "/auth/o2/token") == 1
    assert calls(base_url, "/orders/v0/orders") == 2


def test_a_revoked_token_is_refreshed_once(base_url: str, client: AmazonClient) -> None:
    source = AmazonOrderSource(client, [DE])
    source.pull(None)
    httpx.post(f"{base_url}/_sandbox/revoke-tokens").raise_for_status()
    source.pull(None)
    assert calls(base_url, "/auth/o2/token") == 2


def test_refused_twice_is_an_auth_failure(base_url: str, client: AmazonClient) -> None:
    fail_next(base_url, 403, count=2, body={"errors": [{"code": "Unauthorized", "message": "Access denied"}]})
    with pytest.raises(ChannelAuthFailed, match="Unauthorized"):
        AmazonOrderSource(client, [DE]).pull(None)
    assert calls(base_url, "/auth/o2/token") == 2


def test_bad_credentials_are_an_auth_failure(base_url: str) -> None:
    with amazon_client(base_url, secret="wrong") as bad, pytest.raises(ChannelAuthFailed, match="invalid_client"):
        AmazonOrderSource(bad, [DE]).pull(None)


def test_throttling_says_when_to_come_back(base_url: str, client: AmazonClient) -> None:
    source = AmazonOrderSource(client, [DE])
    fail_next(base_url, 429, headers={"Retry-After": "3"})
    with pytest.raises(ChannelRateLimited) as told:
        source.pull(None)
    assert told.value.retry_after == 3.0
    fail_next(base_url, 429, headers={"x-amzn-RateLimit-Limit": "0.0167"})
    with pytest.raises(ChannelRateLimited) as derived:
        source.pull(None)
    assert derived.value.retry_after == pytest.approx(1 / 0.0167)


def test_server_errors_and_network_errors_are_unavailable(base_url: str, client: AmazonClient) -> None:
    fail_next(base_url, 503)
    with pytest.raises(ChannelUnavailable) as unavailable:
        AmazonOrderSource(client, [DE]).pull(None)
    assert not isinstance(unavailable.value, ChannelRateLimited)
    with amazon_client(f"http://127.0.0.1:{free_port()}") as nowhere, pytest.raises(ChannelUnavailable):
        AmazonOrderSource(nowhere, [DE]).pull(None)


def test_lwa_outage_is_unavailable(base_url: str, client: AmazonClient) -> None:
    fail_next(base_url, 500, path="/auth/o2/token")
    with pytest.raises(ChannelUnavailable):
        AmazonOrderSource(client, [DE]).pull(None)


# --- pulling orders ------------------------------------------------------------------------------------------------


def test_pull_pages_through_everything_once(base_url: str, client: AmazonClient) -> None:
    start = now()
    ids = [f"302-000000{n}-0000001" for n in range(5)]
    for n, order_id in enumerate(ids):
        seed(base_url, order_payload(order_id, start - timedelta(minutes=40 - n), items=3 if n == 2 else 2))
    seed(base_url, order_payload("302-9999999-0000001", start - timedelta(days=2)))  # before the lookback
    source = AmazonOrderSource(client, [DE])
    orders, cursor, pulls = pull_all(source, None)
    assert pulls == 3  # page size 2: 2 + 2 + 1
    assert [order.external_id for order in orders] == ids
    three_items = orders[2].payload["items"]  # fetched across two getOrderItems pages
    assert len(three_items) == 3 and len({item["OrderItemId"] for item in three_items}) == 3
    assert amazon.to_order(orders[0].payload, {"TEE-ORG-BLK-M": "TEE", "MUG-STONE-350": "MUG"}.get).total.amount_minor
    again, _, _ = pull_all(source, cursor)
    assert again == []  # nothing changed: nothing repeats, although the watermark overlaps


def test_a_stored_cursor_resumes_where_it_stopped(base_url: str, client: AmazonClient) -> None:
    start = now()
    ids = [f"302-100000{n}-0000001" for n in range(5)]
    for n, order_id in enumerate(ids):
        seed(base_url, order_payload(order_id, start - timedelta(minutes=30 - n)))
    first = AmazonOrderSource(client, [DE]).pull(None)
    assert first.more and len(first.orders) == 2
    # A restart: a new source with only the stored cursor.
    rest, _, _ = pull_all(AmazonOrderSource(client, [DE]), first.cursor)
    assert [order.external_id for order in first.orders + rest] == ids


def test_an_order_updated_later_is_pulled_again(base_url: str, client: AmazonClient) -> None:
    start = now()
    seed(base_url, order_payload("302-2000000-0000001", start - timedelta(minutes=30)))
    seed(base_url, order_payload("302-2000000-0000002", start - timedelta(minutes=20)))
    source = AmazonOrderSource(client, [DE])
    first, cursor, _ = pull_all(source, None)
    assert len(first) == 2
    seed(base_url, order_payload("302-2000000-0000001", start - timedelta(minutes=10), status="Canceled"))
    second, cursor, _ = pull_all(source, cursor)
    assert [(order.external_id, order.cancelled) for order in second] == [("302-2000000-0000001", True)]
    assert pull_all(source, cursor)[0] == []


def test_an_update_inside_the_settling_window_is_not_missed(base_url: str) -> None:
    """Amazon's data settles two minutes after an update: the watermark never passes that point."""
    clock = [now()]
    with amazon_client(base_url) as fresh:
        source = AmazonOrderSource(fresh, [DE], now=lambda: clock[0])
        seed(base_url, order_payload("302-3000000-0000001", clock[0] - timedelta(seconds=30)))
        first, cursor, _ = pull_all(source, None)
        assert [order.external_id for order in first] == ["302-3000000-0000001"]
        # Updated 90 s before that pull (before the newest order seen), but only visible at Amazon now.
        seed(base_url, order_payload("302-3000000-0000002", clock[0] - timedelta(seconds=90)))
        clock[0] += timedelta(minutes=3)
        second, _, _ = pull_all(source, cursor)
    assert [order.external_id for order in second] == ["302-3000000-0000002"]


def test_pending_is_skipped_canceled_flagged_afn_kept(base_url: str, client: AmazonClient) -> None:
    start = now() - timedelta(minutes=30)
    seed(base_url, order_payload("302-4000000-0000001", start, status="Pending"))
    seed(base_url, order_payload("302-4000000-0000002", start, status="PendingAvailability"))
    seed(base_url, order_payload("302-4000000-0000003", start, status="Canceled"))
    afn = channel_payload("amazon/order_uk_afn.json")
    afn["order"].update(LastUpdateDate=_iso(start), MarketplaceId=DE)
    seed(base_url, afn)
    orders, cursor, _ = pull_all(AmazonOrderSource(client, [DE]), None)
    assert {order.external_id: order.cancelled for order in orders} == {
        "302-4000000-0000003": True,
        "026-5523347-1170713": False,
    }
    # Paid later: the Pending order turns Unshipped with a newer LastUpdateDate and arrives then.
    seed(base_url, order_payload("302-4000000-0000001", start + timedelta(minutes=5)))
    later, _, _ = pull_all(AmazonOrderSource(client, [DE]), cursor)
    assert [order.external_id for order in later] == ["302-4000000-0000001"]


def test_throttled_order_items_hand_over_what_was_fetched(base_url: str, client: AmazonClient) -> None:
    start = now()
    seed(base_url, order_payload("302-5000000-0000001", start - timedelta(minutes=30)))
    seed(base_url, order_payload("302-5000000-0000002", start - timedelta(minutes=29)))
    fail_next(base_url, 429, path="/orders/v0/orders/302-5000000-0000002/orderItems")
    source = AmazonOrderSource(client, [DE])
    partial = source.pull(None)
    assert [order.external_id for order in partial.orders] == ["302-5000000-0000001"] and partial.more
    rest, _, _ = pull_all(source, partial.cursor)
    assert [order.external_id for order in rest] == ["302-5000000-0000002"]


# --- shipments and listings ----------------------------------------------------------------------------------------


def notice(carrier: str = "DHL Express", line_id: str = "61840213977435") -> ShipmentNotice:
    return shipment_notice(
        "amazon",
        "302-6000000-0000001",
        ShippedLine("TEE-ORG-BLK-M", 2, line_id),
        ShippedLine("MUG-STONE-350", 1, "61840213977447"),
        carrier=carrier,
        tracking="JD014600006281234567",
        shipped_at=datetime(2024, 11, 30, 14, 5, tzinfo=UTC),
    )


def test_shipment_confirmation_reaches_amazon(base_url: str, client: AmazonClient) -> None:
    seed(base_url, order_payload("302-6000000-0000001", now() - timedelta(minutes=30)))
    confirmer = AmazonShipmentConfirmer(client, DE)
    confirmer.confirm_shipment(notice())
    confirmer.confirm_shipment(notice(carrier="PostNL"))
    first, second = httpx.get(f"{base_url}/_sandbox/shipments").json()
    assert first["orderId"] == "302-6000000-0000001" and first["marketplaceId"] == DE
    detail = first["packageDetail"]
    assert (detail["carrierCode"], detail["carrierName"], detail["trackingNumber"]) == (
        "DHL",
        "DHL Express",
        "JD014600006281234567",
    )
    assert detail["shipDate"] == "2024-11-30T14:05:00Z" and detail["packageReferenceId"].isdigit()
    assert detail["orderItems"] == [
        {"orderItemId": "61840213977435", "quantity": 2},
        {"orderItemId": "61840213977447", "quantity": 1},
    ]
    assert (second["packageDetail"]["carrierCode"], second["packageDetail"]["carrierName"]) == ("Other", "PostNL")


def test_shipment_lines_need_amazons_item_ids(base_url: str, client: AmazonClient) -> None:
    seed(base_url, order_payload("302-6000000-0000001", now() - timedelta(minutes=30)))
    confirmer = AmazonShipmentConfirmer(client, DE)
    with pytest.raises(ChannelRejected, match="OrderItemId"):
        confirmer.confirm_shipment(notice(line_id=""))
    with pytest.raises(ChannelRejected, match="unknown orderItemId"):
        confirmer.confirm_shipment(notice(line_id="11111111111111"))
    assert httpx.get(f"{base_url}/_sandbox/shipments").json() == []


def test_listing_quantity_reaches_amazon(base_url: str, client: AmazonClient) -> None:
    httpx.post(f"{base_url}/_sandbox/listings", json={"sellerId": SELLER, "sku": "TEE/ORG M", "quantity": 3})
    feed = AmazonListingsStockFeed(client, SELLER, [DE])
    feed.push("TEE/ORG M", 17, sequence=1)
    feed.push("NOT-ON-AMAZON", 5, sequence=1)  # no listing: skipped, not an error
    listing = httpx.get(f"{base_url}/_sandbox/listings").json()[f"{SELLER}/TEE/ORG M"]
    assert listing["quantity"] == 17
    assert listing["submissions"] == [
        {
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 17}],
                }
            ],
        }
    ]


def test_an_invalid_listing_submission_is_rejected(base_url: str, client: AmazonClient) -> None:
    issue = {"code": "90244", "message": "quantity invalid", "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}
    fail_next(base_url, 200, body={"sku": "TEE", "status": "INVALID", "submissionId": "s1", "issues": [issue]})
    with pytest.raises(ChannelRejected, match="90244: quantity invalid"):
        AmazonListingsStockFeed(client, SELLER, [DE]).push("TEE", 1, sequence=1)
