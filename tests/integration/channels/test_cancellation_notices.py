"""Cancellations out: the step that records an order as CANCELLED writes the channel's notice in its own
transaction, once, for our cancels only (and for a customer's request bol wants confirmed); the notices
reach the selling channel's real-HTTP sandbox, riding out outages and keeping refusals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from activities.channel_out import CancellationNoticeActivities
from activities.orders import OrderActivities
from contracts.order_records import ChangeStatusInput
from contracts.order_workflow import CancelRequest
from domain.cancellation import BY_DEADLINE, BY_SOURCING, CancelReason
from domain.channel_notices import CancellationNotice
from domain.order import FULFILLED_BY_CHANNEL, Order
from domain.status import OrderStatus
from integrations.channels.base import ChannelCanceller
from integrations.channels.bol.canceller import BolCanceller
from integrations.channels.registry import SPECS
from integrations.channels.shopify.canceller import ShopifyCanceller
from integrations.channels.woocommerce.canceller import WooCommerceCanceller
from persistence.guarded_writes import cancellation_notices, channel_outbox
from persistence.guarded_writes.channel_outbox import Enqueued
from persistence.models import CancellationNoticeOutbox, ChannelStockLevel, StockOutbox
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.channels.factories import (
    bol_client,
    bol_order_items,
    channel_order,
    record,
    retry_due,
    seed_bol_orders,
    seed_shopify_order,
    shopify_client,
    timeline,
    woocommerce_client,
)
from tests.conftest import TestDatabase as Database
from tests.factories import next_id

CANCELLED_AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


# -- the order rows, and cancelling them as the workflow's status step does ----------------------


def cancel(db: Database, order_id: str, request: CancelRequest | None, *, step: int = 1) -> None:
    """What OrderWorkflow._set_status(CANCELLED) runs: the real activity, under the step's key."""
    detail = request.reason if request is not None and request.reason else "cancelled"
    OrderActivities(db.session_factory).change_status(
        ChangeStatusInput(
            order_id, OrderStatus.CANCELLED, f"{order_id}:status-CANCELLED:{step}", CANCELLED_AT, None, detail, request
        )
    )


def notices(db: Database) -> list[CancellationNoticeOutbox]:
    with db.session() as session:
        return list(session.scalars(select(CancellationNoticeOutbox).order_by(CancellationNoticeOutbox.id)))


def notice_of(db: Database, order_id: str) -> CancellationNoticeOutbox:
    with db.session() as session:
        row = cancellation_notices.notice_of(session, order_id)
        assert row is not None
        return row


# -- writing notices ------------------------------------------------------------------------------


def test_our_cancel_writes_one_notice_with_the_status_even_when_retried(database):
    order = channel_order("bol", [("TEE", 2, "2095052647"), ("MUG", 1, "2095052648")], external_id=str(next_id()))
    order_id = record(database.session_factory, order)
    request = CancelRequest("backorder deadline passed", BY_DEADLINE)
    cancel(database, order_id, request)
    cancel(database, order_id, request)  # the activity retried: its stored result answers
    cancel(database, order_id, request, step=2)  # even a second CANCELLED step adds no second notice

    [row] = notices(database)
    with database.session() as session:
        recorded = order_store.get_order(session, order_id)
        assert recorded is not None and recorded.status == "CANCELLED"
    assert (row.order_id, row.channel, row.delivered_at, row.attempts) == (order_id, "bol", None, 0)
    assert row.notice["requested_by"] == BY_DEADLINE
    assert cancellation_notices.to_notice(row.notice) == CancellationNotice(
        order_external_id=order.external_id,
        line_ids=("2095052647", "2095052648"),
        reason_kind=CancelReason.OUT_OF_STOCK,
        reason="backorder deadline passed",
        cancelled_at=CANCELLED_AT,
    )


def test_staff_and_engine_cancels_are_ours_and_so_is_one_whose_requester_was_not_recorded(database):
    staff = record(database.session_factory, channel_order("shopify", [("TEE", 1, "11")]))
    routing = record(database.session_factory, channel_order("woocommerce", [("TEE", 1, "801")]))
    unknown = record(database.session_factory, channel_order("shopify", [("TEE", 1, "12")]))
    cancel(database, staff, CancelRequest("customer phoned", "anna@shop.example"))
    cancel(database, routing, CancelRequest("routing: nothing fits", BY_SOURCING))
    cancel(database, unknown, None)
    kinds = {row.order_id: (row.channel, row.notice["reason_kind"], row.notice["reason"]) for row in notices(database)}
    assert kinds == {
        staff: ("shopify", "other", "customer phoned"),
        routing: ("woocommerce", "out_of_stock", "routing: nothing fits"),
        unknown: ("shopify", "other", "cancelled"),
    }


def test_a_cancel_the_channel_made_itself_is_not_sent_back(database):
    shopify = record(database.session_factory, channel_order("shopify", [("TEE", 1, "11")]))
    woo = record(database.session_factory, channel_order("woocommerce", [("TEE", 1, "801")]))
    bol = record(database.session_factory, channel_order("bol", [("TEE", 1, "2095052647")], external_id=str(next_id())))
    cancel(database, shopify, CancelRequest("cancelled on Shopify (customer)", "shopify"))
    cancel(database, woo, CancelRequest("cancelled on WooCommerce", "woocommerce"))
    cancel(database, bol, CancelRequest("cancelled on bol", "bol"))  # bol cancelled every item itself
    assert notices(database) == []


def test_a_customer_request_bol_forwarded_is_confirmed_for_its_lines_only(database):
    order = channel_order("bol", [("TEE", 1, "2095061001"), ("MUG", 1, "2095061002")], external_id=str(next_id()))
    order_id = record(database.session_factory, order)
    # The MUG was cancelled by bol already; the customer asked for the TEE, which bol wants confirmed.
    cancel(database, order_id, CancelRequest("the customer asked bol to cancel", "bol", ["2095061001"]))
    notice = cancellation_notices.to_notice(notice_of(database, order_id).notice)
    assert (notice.line_ids, notice.reason_kind) == (("2095061001",), CancelReason.CUSTOMER_REQUEST)


def test_amazon_orders_get_a_note_to_cancel_in_seller_central_and_others_nothing(database):
    amazon = record(database.session_factory, channel_order("amazon", [("TEE", 1, "61840213977435")]))
    by_amazon = record(database.session_factory, channel_order("amazon", [("TEE", 1, "61840213977436")]))
    fbb = record(
        database.session_factory,
        channel_order("bol", [("TEE", 1, "2095052649")], external_id=str(next_id())),
        fulfilled_by=FULFILLED_BY_CHANNEL,
    )
    webshop = record(database.session_factory, channel_order("webshop", [("TEE", 1, "")]))
    cancel(database, amazon, CancelRequest("customer phoned", "anna@shop.example"))
    cancel(database, by_amazon, CancelRequest("cancelled on amazon", "amazon"))
    cancel(database, fbb, CancelRequest("customer phoned", "anna@shop.example"))
    cancel(database, webshop, CancelRequest("customer phoned", "anna@shop.example"))
    assert notices(database) == []
    [note] = timeline(database.session_factory, amazon, "channel_not_notified")
    assert "Seller Central" in note
    assert timeline(database.session_factory, by_amazon, "channel_not_notified") == []


def test_who_is_told_of_a_cancel_is_each_channels_spec_to_say(database):
    """The specs are the one switch: a channel that stops cancelling hears nothing (not even a note),
    one that gains a cancel call gets a notice instead of the note to cancel by hand."""
    specs = {
        **SPECS,
        "shopify": dataclasses.replace(SPECS["shopify"], cancels=False),
        "amazon": dataclasses.replace(SPECS["amazon"], cancels=True, cancel_by_hand=""),
    }
    shop = record(database.session_factory, channel_order("shopify", [("TEE", 1, "11")]))
    amazon = record(database.session_factory, channel_order("amazon", [("TEE", 1, "61840213977435")]))
    with UnitOfWork(database.session_factory) as uow:
        told = {
            order_id: cancellation_notices.enqueue_cancellation(
                uow.session, order_id, specs, requested_by="anna@shop.example", reason="customer phoned"
            )
            for order_id in (shop, amazon)
        }
        uow.commit()
    assert told == {shop: Enqueued(), amazon: Enqueued(written=True)}  # no note to cancel by hand either
    assert [(row.order_id, row.channel) for row in notices(database)] == [(amazon, "amazon")]
    assert timeline(database.session_factory, shop, "channel_not_notified") == []
    assert timeline(database.session_factory, amazon, "channel_not_notified") == []


# -- delivering them to the channels' sandboxes ---------------------------------------------------


def outbox(db: Database, channel: str, canceller: ChannelCanceller) -> CancellationNoticeActivities:
    return CancellationNoticeActivities(db.session_factory, {channel: canceller})


def test_shopify_gets_order_cancel_after_an_outage_and_the_timeline_shows_it(database, shopify_url):
    order = channel_order("shopify", [("TEE", 1, str(next_id()))])
    seed_shopify_order(shopify_url, order)
    order_id = record(database.session_factory, order)
    cancel(database, order_id, CancelRequest("backorder deadline passed", BY_DEADLINE))
    httpx.post(f"{shopify_url}/_sandbox/fail-next", json={"count": 1, "status": 503}).raise_for_status()
    sender = outbox(database, "shopify", ShopifyCanceller(shopify_client(shopify_url)))

    first = sender.deliver(batch_size=10)
    assert (first.delivered, first.failed) == (0, 1)
    row = notice_of(database, order_id)
    assert (row.delivered_at, row.attempts) == (None, 0) and "503" in (row.last_error or "")

    assert sender.deliver(batch_size=10).delivered == 1
    [sent] = httpx.get(f"{shopify_url}/_sandbox/cancellations").json()
    assert sent["order_id"] == f"gid://shopify/Order/{order.external_id}"
    assert (sent["reason"], sent["restock"], sent["notify_customer"]) == ("INVENTORY", False, True)
    assert (sent["refund"], sent["refund_method"]) == (None, {"originalPaymentMethodsRefund": True})
    assert "backorder deadline passed" in sent["staff_note"]
    row = notice_of(database, order_id)
    assert row.delivered_at is not None and row.last_error is None
    assert timeline(database.session_factory, order_id, "channel_notified") == [
        "cancellation: shopify told (out_of_stock)"
    ]
    assert sender.deliver(batch_size=10).delivered == 0  # nothing is sent twice
    fulfillment_orders = httpx.get(f"{shopify_url}/_sandbox/orders/{order.external_id}/fulfillment-orders").json()
    assert {fo["status"] for fo in fulfillment_orders} == {"CLOSED"}


def test_a_shopify_order_already_cancelled_there_is_left_alone(database, shopify_url):
    """A delivery whose answer was lost is tried again: Shopify already cancelled it, so nothing is sent."""
    order = channel_order("shopify", [("TEE", 1, str(next_id()))])
    seed_shopify_order(shopify_url, order)
    order_id = record(database.session_factory, order)
    cancel(database, order_id, CancelRequest("customer phoned", "anna@shop.example"))
    notice = cancellation_notices.to_notice(notice_of(database, order_id).notice)
    canceller = ShopifyCanceller(shopify_client(shopify_url))
    canceller.cancel_order(notice)  # the first delivery: accepted, but we never heard back

    assert outbox(database, "shopify", canceller).deliver(10).delivered == 1
    assert len(httpx.get(f"{shopify_url}/_sandbox/cancellations").json()) == 1
    assert httpx.get(f"{shopify_url}/_sandbox/calls").json().count("orderCancel") == 1


def test_shopify_before_2025_07_is_asked_with_refund_instead_of_refund_method(database, shopify_url):
    order = channel_order("shopify", [("TEE", 1, str(next_id()))])
    seed_shopify_order(shopify_url, order)
    order_id = record(database.session_factory, order)
    cancel(database, order_id, CancelRequest("customer phoned", "anna@shop.example"))
    client = shopify_client(shopify_url, api_version="2025-04")
    assert outbox(database, "shopify", ShopifyCanceller(client)).deliver(10).delivered == 1
    [sent] = httpx.get(f"{shopify_url}/_sandbox/cancellations").json()
    assert (sent["reason"], sent["refund"], sent["refund_method"]) == ("OTHER", True, None)


def woo_order(url: str, status: str) -> Order:
    order = channel_order("woocommerce", [("TEE", 2, "801")], external_id=str(next_id() % 10**9))
    httpx.post(f"{url}/_sandbox/orders", json={"id": int(order.external_id), "status": status}).raise_for_status()
    return order


def woo_canceller(url: str) -> WooCommerceCanceller:
    return WooCommerceCanceller(woocommerce_client(url))


def test_woocommerce_is_set_cancelled_and_its_stock_sent_again(database, woocommerce_url):
    order = woo_order(woocommerce_url, "processing")
    order_id = record(database.session_factory, order)
    with UnitOfWork(database.session_factory) as uow:  # what WooCommerce was last told of the TEE
        uow.session.add(ChannelStockLevel(channel="woocommerce", sku="TEE", quantity=5, sequence=7))
        uow.commit()
    cancel(database, order_id, CancelRequest("routing: nothing fits", BY_SOURCING))

    httpx.post(f"{woocommerce_url}/_sandbox/fail", json={"status": 429, "retry_after": "30"}).raise_for_status()
    sender = outbox(database, "woocommerce", woo_canceller(woocommerce_url))
    assert sender.deliver(10).failed == 1
    again = sender.deliver(10)  # paused for its Retry-After: its notices are not even read
    assert (again.delivered, again.failed) == (0, 0)
    assert notice_of(database, order_id).attempts == 0

    sender = outbox(database, "woocommerce", woo_canceller(woocommerce_url))  # a later pass (a new worker)
    assert sender.deliver(10).delivered == 1
    assert httpx.get(f"{woocommerce_url}/_sandbox/orders/{order.external_id}").json()["status"] == "cancelled"
    # WooCommerce put the 2 units back on its own stock: the next stock pass sends ours again.
    with database.session() as session:
        level = session.get(ChannelStockLevel, ("woocommerce", "TEE"))
        assert level is not None and (level.quantity, level.sequence) == (cancellation_notices.UNKNOWN_LEVEL, 7)
        queued = session.scalars(select(StockOutbox.sku).where(StockOutbox.delivered_at.is_(None))).all()
        assert queued == ["TEE"]


def test_a_channel_whose_cancel_leaves_its_stock_alone_is_not_sent_it_again(database, woocommerce_url):
    order = woo_order(woocommerce_url, "processing")
    order_id = record(database.session_factory, order)
    with UnitOfWork(database.session_factory) as uow:
        uow.session.add(ChannelStockLevel(channel="woocommerce", sku="TEE", quantity=5, sequence=7))
        uow.commit()
    cancel(database, order_id, CancelRequest("routing: nothing fits", BY_SOURCING))
    specs = {**SPECS, "woocommerce": dataclasses.replace(SPECS["woocommerce"], cancel_touches_stock=False)}
    sender = CancellationNoticeActivities(
        database.session_factory, {"woocommerce": woo_canceller(woocommerce_url)}, specs
    )
    assert sender.deliver(10).delivered == 1
    with database.session() as session:
        level = session.get(ChannelStockLevel, ("woocommerce", "TEE"))
        assert level is not None and (level.quantity, level.sequence) == (5, 7)
        assert session.scalars(select(StockOutbox.sku).where(StockOutbox.delivered_at.is_(None))).all() == []


def test_a_woocommerce_order_the_merchant_already_ended_keeps_its_status(database, woocommerce_url):
    order = woo_order(woocommerce_url, "refunded")
    order_id = record(database.session_factory, order)
    cancel(database, order_id, CancelRequest("customer phoned", "anna@shop.example"))
    assert outbox(database, "woocommerce", woo_canceller(woocommerce_url)).deliver(10).delivered == 1
    assert httpx.get(f"{woocommerce_url}/_sandbox/orders/{order.external_id}").json()["status"] == "refunded"


def seed_bol(url: str, order_id: str, items: list[dict[str, Any]]) -> None:
    seed_bol_orders(url, bol_order_items(order_id, items))


def test_bol_gets_the_open_items_each_with_its_documented_reason_code(database, bol_url):
    bol_id = str(next_id())
    lines = [("TEE", 1, f"{bol_id}1"), ("MUG", 2, f"{bol_id}2"), ("CAP", 1, f"{bol_id}3")]
    order_id = record(database.session_factory, channel_order("bol", lines, external_id=bol_id))
    seed_bol(
        bol_url,
        bol_id,
        [
            {"orderItemId": f"{bol_id}1", "cancellationRequest": True},  # the customer asked meanwhile
            {"orderItemId": f"{bol_id}2", "quantity": 2},
            {"orderItemId": f"{bol_id}3", "quantityCancelled": 1},  # bol cancelled this one itself
        ],
    )
    cancel(database, order_id, CancelRequest("backorder deadline passed", BY_DEADLINE))
    assert outbox(database, "bol", BolCanceller(bol_client(bol_url))).deliver(10).delivered == 1
    [sent] = httpx.get(f"{bol_url}/_sandbox/cancellations").json()
    assert sent == {
        "orderItems": [
            {"orderItemId": f"{bol_id}1", "reasonCode": "REQUESTED_BY_CUSTOMER"},
            {"orderItemId": f"{bol_id}2", "reasonCode": "OUT_OF_STOCK"},
        ]
    }
    items = {item["orderItemId"]: item for item in bol_client(bol_url).get_order(bol_id)["orderItems"]}
    assert [items[f"{bol_id}{n}"]["quantityCancelled"] for n in (1, 2, 3)] == [1, 2, 1]


def test_a_bol_customer_request_is_confirmed_and_a_refusal_is_kept_with_its_attempts(database, bol_url):
    bol_id = str(next_id())
    order_id = record(database.session_factory, channel_order("bol", [("TEE", 1, f"{bol_id}1")], external_id=bol_id))
    cancel(database, order_id, CancelRequest("the customer asked bol to cancel", "bol", [f"{bol_id}1"]))
    sender = outbox(database, "bol", BolCanceller(bol_client(bol_url)))

    assert sender.deliver(10).failed == 1  # bol does not know the order (yet): refused, kept
    row = notice_of(database, order_id)
    assert (row.delivered_at, row.attempts) == (None, 1) and (row.last_error or "").startswith("ChannelRejected")
    assert len(timeline(database.session_factory, order_id, "channel_notice_refused")) == 1
    assert sender.deliver(10).deferred == 1  # not before its retry is due

    seed_bol(bol_url, bol_id, [{"orderItemId": f"{bol_id}1", "cancellationRequest": True}])
    retry_due(database.session_factory, CancellationNoticeOutbox, row.id)
    assert sender.deliver(10).delivered == 1
    [sent] = httpx.get(f"{bol_url}/_sandbox/cancellations").json()
    assert sent["orderItems"] == [{"orderItemId": f"{bol_id}1", "reasonCode": "REQUESTED_BY_CUSTOMER"}]
    assert timeline(database.session_factory, order_id, "channel_notified") == [
        "cancellation: bol told (customer_request)"
    ]


def test_a_channel_without_a_connection_closes_its_notices_until_it_is_connected(database, bol_url):
    bol_id = str(next_id())
    order_id = record(database.session_factory, channel_order("bol", [("TEE", 1, f"{bol_id}1")], external_id=bol_id))
    cancel(database, order_id, CancelRequest("customer phoned", "anna@shop.example"))
    assert CancellationNoticeActivities(database.session_factory, {}).deliver(10).skipped == 1
    row = notice_of(database, order_id)
    assert row.delivered_at is not None and row.last_error == channel_outbox.NOT_CONNECTED
    assert timeline(database.session_factory, order_id, "channel_not_notified") == [
        "cancellation: no bol connection is configured; tell the channel by hand"
    ]

    with UnitOfWork(database.session_factory) as uow:
        assert channel_outbox.reopen_not_connected(uow.session, CancellationNoticeOutbox, "bol") == 1
        uow.commit()
    seed_bol(bol_url, bol_id, [{"orderItemId": f"{bol_id}1"}])
    assert outbox(database, "bol", BolCanceller(bol_client(bol_url))).deliver(10).delivered == 1
    [sent] = httpx.get(f"{bol_url}/_sandbox/cancellations").json()
    assert sent["orderItems"] == [{"orderItemId": f"{bol_id}1", "reasonCode": "OTHER"}]


# -- items an order edit takes off (order edits) --------------------------------------------------------


def _items(db: Database, order_id: str, line_ids: list[str], by: str) -> Enqueued:
    with UnitOfWork(db.session_factory) as uow:
        told = cancellation_notices.enqueue_item_cancellation(
            uow.session, order_id, SPECS, line_ids, requested_by=by, reason="edited", at=CANCELLED_AT
        )
        uow.commit()
    return told


def test_items_an_edit_takes_off_are_one_notice_per_order_that_a_whole_cancel_replaces(database):
    order = channel_order("bol", [("TEE", 1, "2095071001"), ("MUG", 1, "2095071002"), ("CAP", 1, "2095071003")])
    order_id = record(database.session_factory, dataclasses.replace(order, external_id=str(next_id())))
    assert _items(database, order_id, ["2095071001"], "bol").written
    # A second edit before the first was sent: the same row carries both.
    assert _items(database, order_id, ["2095071002"], "bol").written
    row = notice_of(database, order_id)
    assert row.notice["line_ids"] == ["2095071001", "2095071002"] and row.notice["reason_kind"] == "customer_request"
    with UnitOfWork(database.session_factory) as uow:
        channel_outbox.close(uow.session, CancellationNoticeOutbox, row.id, CANCELLED_AT, None)
        uow.commit()
    # Sent; a later edit (by a person) goes again with its own item alone.
    assert _items(database, order_id, ["2095071003"], "anna@shop.example").written
    row = notice_of(database, order_id)
    assert (row.delivered_at, row.notice["line_ids"], row.notice["reason_kind"]) == (None, ["2095071003"], "other")
    # Then the order is cancelled whole: the whole-order notice takes the row's place.
    cancel(database, order_id, CancelRequest("out of stock", BY_SOURCING))
    row = notice_of(database, order_id)
    assert not row.notice.get("items") and len(row.notice["line_ids"]) == 3
    assert len(notices(database)) == 1


def test_a_channel_that_cannot_cancel_items_is_told_by_a_person(database):
    shopify = record(database.session_factory, channel_order("shopify", [("TEE", 1, "11"), ("MUG", 1, "12")]))
    told = _items(database, shopify, ["12"], "anna@shop.example")
    assert not told.written and "cannot cancel single items" in told.by_hand
    amazon = record(database.session_factory, channel_order("amazon", [("TEE", 1, "61840213977440")]))
    assert "cannot cancel single items" in _items(database, amazon, ["61840213977440"], "anna@shop.example").by_hand
    webshop = record(database.session_factory, channel_order("webshop", [("TEE", 1, "1")]))
    assert _items(database, webshop, ["1"], "anna@shop.example") == Enqueued()
    assert notices(database) == []
