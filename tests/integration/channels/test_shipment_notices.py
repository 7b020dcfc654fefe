"""Status out: a shipment that leaves writes its notice in the handover's transaction (once), and the
notices reach the selling channel's real-HTTP sandbox, riding out outages and keeping refusals."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from activities.channel_out import ShipmentNoticeActivities, next_attempt_at
from activities.fulfilment import ShipmentActivities
from contracts.shipments import AutoStepsRequest, ShipmentStepRequest
from domain.order import FULFILLED_BY_CHANNEL
from integrations.channels.amazon.shipments import AmazonShipmentConfirmer
from integrations.channels.base import ShipmentConfirmer
from integrations.channels.bol.shipments import BolShipmentConfirmer
from integrations.channels.registry import SPECS
from integrations.channels.shopify.fulfilment import ShopifyShipmentConfirmer
from integrations.channels.spec import ChannelSpec
from integrations.channels.woocommerce.shipments import WooCommerceShipmentConfirmer
from integrations.sandbox.warehouse import SandboxWarehouse
from persistence.guarded_writes import inventory, shipment_notices
from persistence.guarded_writes.channel_outbox import Enqueued
from persistence.models import ShipmentNoticeOutbox, ShipmentRecord
from persistence.read_model.shipments import notified_at
from persistence.unit_of_work import UnitOfWork
from sandboxes import shopify as shopify_sandbox
from tests.channels.factories import (
    amazon_client,
    bol_client,
    bol_order_items,
    channel_order,
    channel_payload,
    record,
    retry_due,
    seed_bol_orders,
    seed_shopify_order,
    shopify_client,
    timeline,
    woocommerce_client,
)
from tests.conftest import TestDatabase as Database
from tests.factories import add_location, next_id, stock

MARKETPLACE = "A1PA6795UKMFR9"
SHIPPED_AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


# -- the order and shipment rows ------------------------------------------------------------------


def leave(
    db: Database,
    order_id: str,
    suffix: str,
    lines: dict[str, int],
    *,
    kind: str = "delivery",
    carrier: str = "PostNL",
    tracking: str | None = None,
    collected: bool = False,
    channels: Mapping[str, ChannelSpec] = SPECS,
) -> tuple[str, Enqueued]:
    """A shipment that just left (or was collected), its notice enqueued in the same transaction, as
    the `channels`' specs say (the registry's unless given); what enqueueing did."""
    shipment_id = f"shipment-{order_id}-{suffix}"
    with UnitOfWork(db.session_factory) as uow:
        shipment = ShipmentRecord(
            shipment_id=shipment_id,
            order_id=order_id,
            location_id="AMS",
            status="COLLECTED" if collected else "SHIPPED",
            kind=kind,
            lines=lines,
            carrier=None if kind == "collect" else carrier,
            tracking_number=None if kind == "collect" else (tracking or f"3S{next_id()}"),
            shipped_at=None if kind == "collect" else SHIPPED_AT,
            collected_at=SHIPPED_AT if collected else None,
        )
        uow.session.add(shipment)
        uow.session.flush()
        enqueued = shipment_notices.enqueue_notice(uow.session, shipment, channels)
        uow.commit()
    return shipment_id, enqueued


def notices(db: Database) -> list[ShipmentNoticeOutbox]:
    with db.session() as session:
        return list(session.scalars(select(ShipmentNoticeOutbox).order_by(ShipmentNoticeOutbox.id)))


def notice_of(db: Database, shipment_id: str) -> ShipmentNoticeOutbox:
    with db.session() as session:
        row = session.scalar(select(ShipmentNoticeOutbox).where(ShipmentNoticeOutbox.shipment_id == shipment_id))
        assert row is not None
        return row


# -- writing notices ------------------------------------------------------------------------------


def test_a_handover_writes_one_notice_with_the_channel_line_ids_even_when_retried(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"TEE": 5, "MUG": 5})
    order = channel_order("shopify", [("TEE", 2, "11"), ("MUG", 1, "12")])
    order_id = record(database.session_factory, order)
    shipment_id = f"shipment-{order_id}-AMS"
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"TEE": 2, "MUG": 1}, order_id)
        uow.session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=order_id,
                location_id="AMS",
                status="RESERVED",
                lines={"TEE": 2, "MUG": 1},
            )
        )
        uow.commit()
    steps = ShipmentActivities(database.session_factory, SandboxWarehouse())
    request = AutoStepsRequest(
        order_id,
        shipment_id,
        "AMS",
        ["pick", "pack", "ship"],
        "ship",
        {"TEE": 2, "MUG": 1},
        f"{order_id}:auto",
        SHIPPED_AT,
    )
    steps.perform_steps_automatically(request)
    steps.perform_steps_automatically(request)  # the activity retried: its stored result answers
    with UnitOfWork(database.session_factory) as uow:  # and a handover that runs again adds nothing
        shipment = uow.session.get(ShipmentRecord, shipment_id)
        assert shipment is not None
        assert shipment_notices.enqueue_notice(uow.session, shipment, SPECS) == Enqueued()
        uow.commit()

    [row] = notices(database)
    dispatch = SandboxWarehouse().dispatch(shipment_id, "AMS")
    assert (row.shipment_id, row.order_id, row.channel, row.delivered_at, row.attempts) == (
        shipment_id, order_id, "shopify", None, 0
    )  # fmt: skip
    notice = shipment_notices.to_notice(row.notice)
    assert notice.order_external_id == order.external_id
    assert (notice.carrier, notice.tracking_number, notice.shipped_at) == (
        dispatch.carrier, dispatch.tracking_number, SHIPPED_AT
    )  # fmt: skip
    assert sorted((line.sku, line.quantity, line.external_line_id) for line in notice.lines) == [
        ("MUG", 1, "12"),
        ("TEE", 2, "11"),
    ]
    assert notice.extra["order_complete"] == "true"


def test_split_shipments_fill_the_channel_lines_in_order_and_the_last_completes_the_order(database):
    order_id = record(
        database.session_factory,
        channel_order("woocommerce", [("TEE", 2, "801"), ("TEE", 1, "802"), ("MUG", 1, "803")]),
    )
    first, _ = leave(database, order_id, "AMS", {"TEE": 1})
    second, _ = leave(database, order_id, "UTR", {"TEE": 2, "MUG": 1})
    lines = {
        shipment_id: [(line.sku, line.quantity, line.external_line_id) for line in notice.lines]
        for shipment_id, notice in ((r.shipment_id, shipment_notices.to_notice(r.notice)) for r in notices(database))
    }
    assert lines == {first: [("TEE", 1, "801")], second: [("MUG", 1, "803"), ("TEE", 1, "801"), ("TEE", 1, "802")]}
    assert notice_of(database, first).notice["extra"]["order_complete"] == "false"
    assert notice_of(database, second).notice["extra"]["order_complete"] == "true"


def test_only_orders_a_channel_sold_and_we_fulfil_get_a_notice(database):
    webshop = record(database.session_factory, channel_order("webshop", [("TEE", 1, "")]))
    fba = record(
        database.session_factory,
        channel_order("amazon", [("TEE", 1, "61840213977435")]),
        fulfilled_by=FULFILLED_BY_CHANNEL,
    )
    assert leave(database, webshop, "AMS", {"TEE": 1})[1] == Enqueued()
    assert leave(database, fba, "AMS", {"TEE": 1})[1] == Enqueued()
    assert notices(database) == []


def test_click_and_collect_tells_shops_without_tracking_and_marketplaces_not_at_all(database):
    shop = record(database.session_factory, channel_order("shopify", [("TEE", 1, "21")]))
    transfer = record(database.session_factory, channel_order("woocommerce", [("MUG", 1, "901")]))
    marketplace = record(database.session_factory, channel_order("bol", [("TEE", 1, "2095052647")]))

    collected, enqueued = leave(database, shop, "AMS", {"TEE": 1}, kind="collect", collected=True)
    assert enqueued == Enqueued(written=True)
    notice = shipment_notices.to_notice(notice_of(database, collected).notice)
    assert (notice.carrier, notice.tracking_number, notice.extra["collected"]) == ("", "", "true")

    # Sent on to the pickup store: that parcel's tracking is ours, the customer has nothing yet.
    assert leave(database, transfer, "UTR", {"MUG": 1}, kind="transfer_collect")[1] == Enqueued()
    with UnitOfWork(database.session_factory) as uow:
        shipment = uow.session.get(ShipmentRecord, f"shipment-{transfer}-UTR")
        assert shipment is not None
        shipment.collected_at = SHIPPED_AT
        assert shipment_notices.enqueue_notice(uow.session, shipment, SPECS) == Enqueued(written=True)
        uow.commit()
    notice = shipment_notices.to_notice(notice_of(database, f"shipment-{transfer}-UTR").notice)
    assert (notice.carrier, notice.tracking_number, notice.extra["order_complete"]) == ("", "", "true")

    marketplace_id, enqueued = leave(database, marketplace, "AMS", {"TEE": 1}, kind="collect", collected=True)
    assert enqueued == Enqueued(
        by_hand=f"{marketplace_id}: bol sells no click & collect; confirm the handover there by hand", at=SHIPPED_AT
    )
    assert [row.channel for row in notices(database)] == ["shopify", "woocommerce"]


def test_a_collection_the_channel_cannot_be_told_of_goes_on_the_timeline_in_the_handover_step(database):
    """bol sells no click & collect: the step that hands the goods over writes no notice and puts
    the note to tell bol by hand on the order's timeline, once, however often it runs."""
    add_location(database.session_factory, "AMS", kind="store")
    stock(database.session_factory, "AMS", {"TEE": 1})
    order_id = record(database.session_factory, channel_order("bol", [("TEE", 1, "2095052647")]))
    shipment_id = f"shipment-{order_id}-AMS"
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"TEE": 1}, order_id)
        uow.session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=order_id,
                location_id="AMS",
                status="READY_FOR_PICKUP",
                kind="collect",
                lines={"TEE": 1},
            )
        )
        uow.commit()
    steps = ShipmentActivities(database.session_factory, SandboxWarehouse())
    collect = ShipmentStepRequest(
        order_id, shipment_id, "AMS", "collect", {"TEE": 1}, f"{shipment_id}:collect", SHIPPED_AT, handover=True
    )
    steps.perform_step(collect)
    steps.perform_step(collect)  # retried: its stored result answers

    assert notices(database) == []
    assert timeline(database.session_factory, order_id, "channel_not_notified") == [
        f"{shipment_id}: bol sells no click & collect; confirm the handover there by hand"
    ]


def test_who_is_told_of_what_is_each_channels_spec_to_say(database):
    """The specs are the one switch: a shop that stops confirming collections is not told of one, a
    marketplace that starts confirming them is, and a channel that confirms nothing hears nothing."""
    specs = {
        **SPECS,
        "shopify": dataclasses.replace(SPECS["shopify"], confirms_collections=False),
        "bol": dataclasses.replace(SPECS["bol"], confirms_collections=True),
        "amazon": dataclasses.replace(SPECS["amazon"], confirms_shipments=False),
    }
    shop = record(database.session_factory, channel_order("shopify", [("TEE", 1, "21")]))
    marketplace = record(database.session_factory, channel_order("bol", [("TEE", 1, "2095052647")]))
    amazon = record(database.session_factory, channel_order("amazon", [("TEE", 1, "61840213977435")]))

    shop_told = leave(database, shop, "AMS", {"TEE": 1}, kind="collect", collected=True, channels=specs)[1]
    assert not shop_told.written and "shopify sells no click & collect" in shop_told.by_hand
    marketplace_told = leave(database, marketplace, "AMS", {"TEE": 1}, kind="collect", collected=True, channels=specs)
    assert marketplace_told[1] == Enqueued(written=True)
    assert leave(database, amazon, "AMS", {"TEE": 1}, channels=specs)[1] == Enqueued()
    assert [row.channel for row in notices(database)] == ["bol"]


# -- delivering them to the channels' sandboxes ---------------------------------------------------


def shopify_confirmer(url: str, token: str = shopify_sandbox.SANDBOX_ACCESS_TOKEN) -> ShipmentConfirmer:
    return ShopifyShipmentConfirmer(shopify_client(url, token))


def test_notices_reach_shopify_after_an_outage_and_the_order_timeline_shows_it(database, shopify_url):
    orders = [channel_order("shopify", [("TEE", 1, str(next_id()))]) for _ in range(2)]
    shipments = []
    for order in orders:
        seed_shopify_order(shopify_url, order)
        shipments.append(
            leave(
                database, record(database.session_factory, order), "AMS", {"TEE": 1}, tracking=f"3S{order.external_id}"
            )[0]
        )
    httpx.post(f"{shopify_url}/_sandbox/fail-next", json={"count": 1, "status": 503}).raise_for_status()
    outbox = ShipmentNoticeActivities(database.session_factory, {"shopify": shopify_confirmer(shopify_url)})

    first = outbox.deliver(batch_size=10)
    assert (first.delivered, first.failed) == (0, 1)  # the second was not tried: the shop is down
    row = notice_of(database, shipments[0])
    assert (row.delivered_at, row.attempts) == (None, 0) and "503" in (row.last_error or "")

    second = outbox.deliver(batch_size=10)
    assert (second.delivered, second.failed) == (2, 0)
    fulfillments = httpx.get(f"{shopify_url}/_sandbox/fulfillments").json()
    assert sorted(f["tracking_info"][0]["number"] for f in fulfillments) == sorted(
        f"3S{order.external_id}" for order in orders
    )
    assert {f["tracking_info"][0]["company"] for f in fulfillments} == {"PostNL"}
    row = notice_of(database, shipments[0])
    assert row.delivered_at is not None and row.last_error is None
    with database.session() as session:
        assert notified_at(session, orders[0].order_id) == {shipments[0]: row.delivered_at}
    assert timeline(database.session_factory, orders[0].order_id, "channel_notified") == [
        f"{shipments[0]}: shopify told (PostNL 3S{orders[0].external_id})"
    ]
    assert outbox.deliver(batch_size=10).delivered == 0  # nothing is sent twice


def test_a_collection_fulfils_the_shopify_order_without_tracking(database, shopify_url):
    order = channel_order("shopify", [("TEE", 2, str(next_id()))])
    seed_shopify_order(shopify_url, order)
    leave(database, record(database.session_factory, order), "STORE", {"TEE": 2}, kind="collect", collected=True)
    result = ShipmentNoticeActivities(database.session_factory, {"shopify": shopify_confirmer(shopify_url)}).deliver(10)
    assert result.delivered == 1
    [fulfillment] = httpx.get(f"{shopify_url}/_sandbox/fulfillments").json()
    assert fulfillment["tracking_info"] == [] and fulfillment["line_items"][0]["quantity"] == 2


def test_woocommerce_waits_out_its_rate_limit_then_gets_the_note_and_completes(database, woocommerce_url):
    order = channel_order("woocommerce", [("TEE", 1, "801")], external_id=str(next_id() % 10**9))
    httpx.post(f"{woocommerce_url}/_sandbox/orders", json={"id": int(order.external_id), "status": "processing"})
    shipment_id, _ = leave(
        database, record(database.session_factory, order), "AMS", {"TEE": 1}, carrier="DHL", tracking="JVGL0123"
    )
    httpx.post(f"{woocommerce_url}/_sandbox/fail", json={"status": 429, "retry_after": "1"}).raise_for_status()
    client = woocommerce_client(woocommerce_url)
    outbox = ShipmentNoticeActivities(database.session_factory, {"woocommerce": WooCommerceShipmentConfirmer(client)})

    assert (outbox.deliver(10).failed, outbox.deliver(10).delivered) == (1, 0)  # paused for its Retry-After
    assert notice_of(database, shipment_id).attempts == 0
    time.sleep(1.1)
    assert outbox.deliver(10).delivered == 1
    seen = httpx.get(f"{woocommerce_url}/_sandbox/orders/{order.external_id}").json()
    assert seen["status"] == "completed"
    assert [note["customer_note"] for note in seen["notes"]] == [True]
    assert "DHL" in seen["notes"][0]["note"] and "JVGL0123" in seen["notes"][0]["note"]


def test_bol_gets_the_shipment_with_transporter_and_track_and_trace(database, bol_url):
    order = channel_order("bol", [("TEE", 3, "2095052647")], external_id=str(next_id()))
    seed_bol_orders(bol_url, bol_order_items(order.external_id, [{"orderItemId": "2095052647", "quantity": 3}]))
    shipment_id, _ = leave(
        database, record(database.session_factory, order), "AMS", {"TEE": 3}, carrier="PostNL", tracking="3SBOL1"
    )
    confirmer = BolShipmentConfirmer(bol_client(bol_url))
    result = ShipmentNoticeActivities(database.session_factory, {"bol": confirmer}).deliver(10)
    assert result.delivered == 1
    [sent] = httpx.get(f"{bol_url}/_sandbox/shipments").json()
    assert sent["orderItems"] == [{"orderItemId": "2095052647", "quantity": 3}]
    assert sent["transport"] == {"transporterCode": "TNT", "trackAndTrace": "3SBOL1"}
    assert sent["shipmentReference"] == shipment_id


def amazon_order(url: str, order_id: str, item_ids: list[str]) -> None:
    payload = channel_payload("amazon/order_eu_mfn.json")
    payload["order"]["AmazonOrderId"] = order_id
    payload["items"] = [{**payload["items"][0], "OrderItemId": item_id} for item_id in item_ids]
    httpx.post(f"{url}/_sandbox/orders", json=json.loads(json.dumps(payload, default=str))).raise_for_status()


def test_a_refused_notice_is_kept_with_its_attempts_and_sent_once_the_cause_is_fixed(database, amazon_url):
    order = channel_order("amazon", [("TEE", 1, "61840213977435")], external_id=f"302-{next_id() % 10**7:07d}-1")
    amazon_order(amazon_url, order.external_id, ["11111111111111"])  # Amazon knows another item
    shipment_id, _ = leave(
        database, record(database.session_factory, order), "AMS", {"TEE": 1}, carrier="DHL", tracking="JJD01"
    )
    client = amazon_client(amazon_url)
    outbox = ShipmentNoticeActivities(
        database.session_factory, {"amazon": AmazonShipmentConfirmer(client, MARKETPLACE)}
    )

    assert outbox.deliver(10).failed == 1
    row = notice_of(database, shipment_id)
    assert (row.delivered_at, row.attempts) == (None, 1)
    assert row.last_error is not None and "ChannelRejected" in row.last_error and "orderItemId" in row.last_error
    assert len(timeline(database.session_factory, order.order_id, "channel_notice_refused")) == 1
    again = outbox.deliver(10)
    assert (again.failed, again.deferred) == (0, 1)  # not before its retry is due

    amazon_order(amazon_url, order.external_id, ["61840213977435"])  # a person fixed the cause
    retry_due(database.session_factory, ShipmentNoticeOutbox, row.id)
    assert outbox.deliver(10).delivered == 1
    row = notice_of(database, shipment_id)
    assert (row.attempts, row.last_error) == (1, None) and row.delivered_at is not None
    [sent] = httpx.get(f"{amazon_url}/_sandbox/shipments").json()
    detail = sent["packageDetail"]
    assert (detail["carrierCode"], detail["trackingNumber"]) == ("DHL", "JJD01")
    assert detail["orderItems"] == [{"orderItemId": "61840213977435", "quantity": 1}]


def test_credentials_refused_count_as_attempts(database, shopify_url):
    order = channel_order("shopify", [("TEE", 1, str(next_id()))])
    seed_shopify_order(shopify_url, order)
    shipment_id, _ = leave(database, record(database.session_factory, order), "AMS", {"TEE": 1})
    outbox = ShipmentNoticeActivities(
        database.session_factory, {"shopify": shopify_confirmer(shopify_url, "shpat_wrong")}
    )
    assert outbox.deliver(10).failed == 1
    row = notice_of(database, shipment_id)
    assert row.attempts == 1 and row.last_error is not None and row.last_error.startswith("ChannelAuthFailed")


def test_a_channel_without_a_connection_closes_its_notices_until_it_is_connected(database, bol_url):
    order = channel_order("bol", [("TEE", 1, "2095052647")], external_id=str(next_id()))
    shipment_id, _ = leave(database, record(database.session_factory, order), "AMS", {"TEE": 1})
    assert ShipmentNoticeActivities(database.session_factory, {}).deliver(10).skipped == 1
    row = notice_of(database, shipment_id)
    assert row.delivered_at is not None and row.last_error == shipment_notices.NOT_CONNECTED
    assert len(timeline(database.session_factory, order.order_id, "channel_not_notified")) == 1
    with database.session() as session:
        assert notified_at(session, order.order_id) == {}

    with UnitOfWork(database.session_factory) as uow:
        assert shipment_notices.reopen_not_connected(uow.session, "bol") == 1
        uow.commit()
    seed_bol_orders(bol_url, bol_order_items(order.external_id, [{"orderItemId": "2095052647"}]))
    client = bol_client(bol_url)
    assert (
        ShipmentNoticeActivities(database.session_factory, {"bol": BolShipmentConfirmer(client)}).deliver(10).delivered
        == 1
    )


def test_refused_notices_back_off_on_a_doubling_schedule():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    steps = [next_attempt_at(created, n) - created for n in range(12)]
    assert steps[:4] == [timedelta(0), timedelta(minutes=1), timedelta(minutes=3), timedelta(minutes=7)]
    assert steps[11] - steps[10] == timedelta(hours=6)  # capped


def test_pending_leaves_out_channels_that_are_down(database):
    order_a = record(database.session_factory, channel_order("shopify", [("TEE", 1, "1")]))
    order_b = record(database.session_factory, channel_order("bol", [("TEE", 1, "2")]))
    leave(database, order_a, "AMS", {"TEE": 1})
    leave(database, order_b, "AMS", {"TEE": 1})
    with database.session() as session:
        assert [r.channel for r in shipment_notices.pending_notices(session, limit=10)] == ["shopify", "bol"]
        assert [r.channel for r in shipment_notices.pending_notices(session, limit=10, excluded={"shopify"})] == ["bol"]
