"""The Bol.com adapter over real HTTP against the local sandbox: tokens, paging, cancellations, stock,
shipments and how failures map to the ChannelError family."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.channel_notices import ShipmentNotice, ShippedLine
from domain.order import FULFILLED_BY_CHANNEL
from integrations.channels import bol
from integrations.channels.bol.client import BolClient
from integrations.channels.bol.orders import BolOrderSource
from integrations.channels.bol.shipments import BolShipmentConfirmer
from integrations.channels.bol.stock_feed import BolStockFeed
from integrations.channels.errors import ChannelAuthFailed, ChannelRateLimited, ChannelRejected, ChannelUnavailable
from integrations.channels.listings import named_by
from ops.temporal_dev import free_port
from sandboxes.bol import create_app
from sandboxes.server import serve
from tests.channels.factories import bol_client, pull_all, seed_bol_orders, shipment_notice

DATA = Path(__file__).resolve().parents[2] / "unit" / "data" / "bol"
TEMPLATE = json.loads((DATA / "order_fbr.json").read_text())
FBB_TEMPLATE = json.loads((DATA / "order_fbb.json").read_text())


@pytest.fixture
def sandbox() -> Iterator[str]:
    with serve(create_app(page_size=2)) as url:
        yield url


@pytest.fixture
def client(sandbox: str) -> Iterator[BolClient]:
    client = bol_client(sandbox)
    yield client
    client.close()


def order_json(order_id: str, placed: datetime, template: dict[str, Any] = TEMPLATE) -> dict[str, Any]:
    """The fixture order under a new id, placed (and last changed) at `placed`."""
    order = copy.deepcopy(template)
    order["orderId"] = order_id
    order["orderPlacedDateTime"] = placed.isoformat()
    for index, item in enumerate(order["orderItems"]):
        item["orderItemId"] = f"{order_id}-{index}"
        item["latestChangedDateTime"] = placed.isoformat()
    return order


def sandbox_get(url: str, what: str) -> Any:
    return httpx.get(f"{url}/_sandbox/{what}").json()


def fail_next(url: str, status: int, count: int = 1, retry_after: str | None = None, prefix: str = "/") -> None:
    body = {"status": status, "count": count, "retry_after": retry_after, "path_prefix": prefix}
    httpx.post(f"{url}/_sandbox/fail-next", json=body).raise_for_status()


def seed_five(url: str) -> list[str]:
    now = datetime.now(UTC)
    ids = [f"10439657{n:02d}" for n in range(5)]
    seed_bol_orders(url, *(order_json(order_id, now - timedelta(minutes=n)) for n, order_id in enumerate(ids)))
    return ids


# --- tokens -----------------------------------------------------------------------------------------


def test_one_token_serves_several_calls(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    client.list_orders(page=1, fulfilment_method="FBR")
    client.get_order("1043965700")
    client.list_orders(page=2, fulfilment_method="FBR")
    assert sandbox_get(sandbox, "token-calls") == {"count": 1}


def test_token_is_refreshed_shortly_before_it_expires(sandbox: str) -> None:
    now = [1000.0]
    client = bol_client(sandbox, clock=lambda: now[0])
    client.list_orders(page=1, fulfilment_method="FBR")
    now[0] += 260  # 299 s lifetime, refreshed 30 s early
    client.list_orders(page=1, fulfilment_method="FBR")
    assert sandbox_get(sandbox, "token-calls") == {"count": 1}
    now[0] += 10
    client.list_orders(page=1, fulfilment_method="FBR")
    assert sandbox_get(sandbox, "token-calls") == {"count": 2}


def test_a_refused_token_is_replaced_once_and_the_call_retried(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    client.get_order("1043965700")
    httpx.post(f"{sandbox}/_sandbox/revoke-tokens").raise_for_status()
    assert client.get_order("1043965700")["orderId"] == "1043965700"
    assert sandbox_get(sandbox, "token-calls") == {"count": 2}


def test_a_token_refused_twice_is_an_auth_failure(sandbox: str, client: BolClient) -> None:
    fail_next(sandbox, 401, count=2, prefix="/retailer")
    with pytest.raises(ChannelAuthFailed):
        client.list_orders(page=1, fulfilment_method="FBR")
    assert sandbox_get(sandbox, "token-calls") == {"count": 2}


def test_bad_credentials_are_an_auth_failure(sandbox: str) -> None:
    with pytest.raises(ChannelAuthFailed):
        bol_client(sandbox, secret="wrong").list_orders(page=1, fulfilment_method="FBR")


# --- pulling orders ---------------------------------------------------------------------------------


def test_pull_pages_through_every_order_once(sandbox: str, client: BolClient) -> None:
    ids = seed_five(sandbox)
    pulled, cursor, calls = pull_all(BolOrderSource(client), None)
    assert sorted(order.external_id for order in pulled) == sorted(ids)
    assert calls == 4  # pages of 2, 2, 1, then the empty page that ends the sweep
    assert all(not order.cancelled for order in pulled)
    assert pulled[0].payload["shipmentDetails"]["houseNumberExtension"] == "A"
    assert isinstance(pulled[0].payload["orderItems"][0]["unitPrice"], Decimal)
    again, _, _ = pull_all(BolOrderSource(client), cursor)
    assert again == []  # nothing changed: nothing repeated, no detail calls


def test_pull_resumes_from_a_stored_cursor(sandbox: str, client: BolClient) -> None:
    ids = seed_five(sandbox)
    first = BolOrderSource(client).pull(None)
    assert first.more and len(first.orders) == 2
    restarted_client = bol_client(sandbox)  # a new worker process with the stored cursor
    rest, _, _ = pull_all(BolOrderSource(restarted_client), first.cursor)
    assert sorted(o.external_id for o in first.orders + rest) == sorted(ids)
    assert {o.external_id for o in first.orders}.isdisjoint(o.external_id for o in rest)


def test_an_order_placed_mid_sweep_is_not_missed(sandbox: str, client: BolClient) -> None:
    ids = seed_five(sandbox)
    source = BolOrderSource(client)
    first = source.pull(None)
    late = order_json("1043965799", datetime.now(UTC))
    seed_bol_orders(sandbox, late)  # lands on page 1, which this sweep has already read, and shifts the rest down
    rest, cursor, _ = pull_all(source, first.cursor)
    next_sweep, _, _ = pull_all(source, cursor)
    every = [o.external_id for o in first.orders + rest + next_sweep]
    assert sorted(every) == sorted([*ids, "1043965799"])  # none missed, none repeated


def test_a_cancelled_order_is_pulled_again_flagged(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    source = BolOrderSource(client)
    _, cursor, _ = pull_all(source, None)
    httpx.post(f"{sandbox}/_sandbox/orders/1043965702/cancel").raise_for_status()
    httpx.post(f"{sandbox}/_sandbox/orders/1043965703/cancel", json={"requested": True}).raise_for_status()
    changed, _, _ = pull_all(source, cursor)
    assert {(o.external_id, o.cancelled) for o in changed} == {("1043965702", True), ("1043965703", True)}
    cancelled = next(o for o in changed if o.external_id == "1043965702")
    assert all(i["quantityCancelled"] == i["quantity"] for i in cancelled.payload["orderItems"])


def test_fbb_orders_only_when_asked(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    seed_bol_orders(sandbox, order_json("A2K8290LP8", datetime.now(UTC), FBB_TEMPLATE))
    fbr, _, _ = pull_all(BolOrderSource(client), None)
    assert "A2K8290LP8" not in {o.external_id for o in fbr}
    fbb, _, _ = pull_all(BolOrderSource(client, fulfilment_method="FBB"), None)
    assert [o.external_id for o in fbb] == ["A2K8290LP8"]  # shipped by bol already, still recorded
    assert bol.to_order(fbb[0].payload, lambda ean: None).fulfilled_by == FULFILLED_BY_CHANNEL


def test_an_order_already_shipped_by_the_retailer_is_not_pulled(sandbox: str, client: BolClient) -> None:
    shipped = order_json("1043965800", datetime.now(UTC))
    for item in shipped["orderItems"]:
        item["quantityShipped"] = item["quantity"] - item["quantityCancelled"]
    seed_bol_orders(sandbox, shipped)
    pulled, _, _ = pull_all(BolOrderSource(client), None)
    assert pulled == []


def test_a_pull_failing_midway_keeps_its_cursor(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    source = BolOrderSource(client)
    first = source.pull(None)
    fail_next(sandbox, 503, prefix="/retailer/orders")
    with pytest.raises(ChannelUnavailable):
        source.pull(first.cursor)
    rest, _, _ = pull_all(source, first.cursor)  # the activity retries with the same cursor
    assert len(first.orders) + len(rest) == 5


# --- stock and shipments ------------------------------------------------------------------------------


def test_stock_push_reaches_the_offer(sandbox: str, client: BolClient) -> None:
    offers = {"TEE-ORG-BLK-M": "6ff736b5-cdd0-4150-8c67-78269ee986f5"}
    feed = named_by(bol.SPEC.listing_ids, BolStockFeed(client), offers.get)  # as the registry wires it
    feed.push("TEE-ORG-BLK-M", 7, 1)
    feed.push("TEE-ORG-BLK-M", 1500, 2)  # bol takes 0..999
    feed.push("TEE-ORG-BLK-M", -3, 3)
    feed.push("NOT-ON-BOL", 5, 4)
    assert sandbox_get(sandbox, "stock") == {
        "6ff736b5-cdd0-4150-8c67-78269ee986f5": [
            {"amount": 7, "managedByRetailer": True},
            {"amount": 999, "managedByRetailer": True},
            {"amount": 0, "managedByRetailer": True},
        ]
    }


def notice(*lines: ShippedLine, carrier: str = "PostNL") -> ShipmentNotice:
    return shipment_notice("bol", "1043965700", *lines, carrier=carrier, tracking="3SBOL0987654321")


def test_shipment_reaches_bol_with_transporter_and_track_and_trace(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    BolShipmentConfirmer(client).confirm_shipment(
        notice(ShippedLine("TEE-ORG-BLK-M", 3, "1043965700-0"), ShippedLine("MUG-STONE-350", 1, "1043965700-1"))
    )
    assert sandbox_get(sandbox, "shipments") == [
        {
            "orderItems": [
                {"orderItemId": "1043965700-0", "quantity": 3},
                {"orderItemId": "1043965700-1", "quantity": 1},
            ],
            "shipmentReference": "shipment-order-bol-1043965700-AMS",
            "transport": {"transporterCode": "TNT", "trackAndTrace": "3SBOL0987654321"},
        }
    ]
    detail = client.get_order("1043965700")
    assert [i["quantityShipped"] for i in detail["orderItems"]] == [3, 1, 0, 0]


def test_a_line_without_order_item_id_cannot_be_confirmed(sandbox: str, client: BolClient) -> None:
    with pytest.raises(ChannelRejected):
        BolShipmentConfirmer(client).confirm_shipment(notice(ShippedLine("TEE-ORG-BLK-M", 1)))
    assert sandbox_get(sandbox, "shipments") == []


def test_bol_reports_a_failed_shipment_in_its_process_status(sandbox: str, client: BolClient) -> None:
    accepted = client.create_shipment({"orderItems": [{"orderItemId": "no-such-item", "quantity": 1}]})
    assert accepted["status"] == "PENDING"
    with pytest.raises(ChannelRejected, match="no-such-item"):
        client.process_status(accepted["processStatusId"])


# --- failures -----------------------------------------------------------------------------------------


def test_429_is_rate_limited_with_retry_after(sandbox: str, client: BolClient) -> None:
    fail_next(sandbox, 429, retry_after="7", prefix="/retailer")
    with pytest.raises(ChannelRateLimited) as caught:
        client.list_orders(page=1, fulfilment_method="FBR")
    assert caught.value.retry_after == 7.0
    assert client.list_orders(page=1, fulfilment_method="FBR") == []  # and the next call goes through


def test_429_without_retry_after(sandbox: str, client: BolClient) -> None:
    fail_next(sandbox, 429, prefix="/retailer")
    with pytest.raises(ChannelRateLimited) as caught:
        client.list_orders(page=1, fulfilment_method="FBR")
    assert caught.value.retry_after is None


def test_429_from_the_token_endpoint(sandbox: str, client: BolClient) -> None:
    fail_next(sandbox, 429, retry_after="3", prefix="/token")
    with pytest.raises(ChannelRateLimited) as caught:
        client.list_orders(page=1, fulfilment_method="FBR")
    assert caught.value.retry_after == 3.0


def test_503_is_unavailable(sandbox: str, client: BolClient) -> None:
    fail_next(sandbox, 503, prefix="/retailer")
    with pytest.raises(ChannelUnavailable) as caught:
        client.get_order("1043965700")
    assert not isinstance(caught.value, ChannelRateLimited)


def test_network_error_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ChannelUnavailable):
        bol_client(url).list_orders(page=1, fulfilment_method="FBR")


def test_other_4xx_is_rejected_with_bols_detail(sandbox: str, client: BolClient) -> None:
    with pytest.raises(ChannelRejected, match="fulfilment-method"):
        client.list_orders(page=1, fulfilment_method="BOTH")
    with pytest.raises(ChannelRejected, match="404"):
        client.get_order("does-not-exist")


def test_threads_sharing_a_client_fetch_one_token(sandbox: str, client: BolClient) -> None:
    seed_five(sandbox)
    with ThreadPoolExecutor(max_workers=8) as pool:
        details = list(pool.map(client.get_order, ["1043965700", "1043965701", "1043965702"] * 4))
    assert {d["orderId"] for d in details} == {"1043965700", "1043965701", "1043965702"}
    assert sandbox_get(sandbox, "token-calls") == {"count": 1}
