"""Cancellations out, end to end on a running engine: an order that ends CANCELLED here is cancelled on
the channel that sold it (or, for a bol customer's request, confirmed there), unless the channel made
the cancel itself. The channels are their real-HTTP sandboxes; the stock feed delivers."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

from persistence.guarded_writes import cancellation_notices
from persistence.master_data import catalogue
from persistence.unit_of_work import UnitOfWork
from tests.channels.factories import shopify_settings, timeline
from tests.factories import add_location, next_id, shopify_payload, signed, stock
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.test_channel_out import eventually, sandbox, stock_feed
from tests.workflow.test_channel_pull import bol_settings, pull

DATA = Path(__file__).resolve().parents[1] / "unit" / "data"
TOKEN = "cancels-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
TEE, MUG = "TEE-ORG-BLK-M", "MUG-STONE-350"


async def test_a_bol_order_the_customer_asked_to_cancel_ends_cancelled_and_bol_hears_it_confirmed(
    temporal_client, sqlite_database, bol_url
):
    db = sqlite_database
    add_location(db.session_factory, "AMS")
    stock(db.session_factory, "AMS", {TEE: 10, MUG: 10})
    with UnitOfWork(db.session_factory) as uow:
        catalogue.save_product(uow.session, TEE, name="Tee", ean="8712345678906", listings={})
        catalogue.save_product(uow.session, MUG, name="Mug", ean="8712345678913", listings={})
        uow.commit()
    payload = json.loads((DATA / "bol" / "order_fbr.json").read_text())
    payload["orderId"] = bol_id = str(next_id())
    payload["orderItems"] = payload["orderItems"][:2]  # the tee (3) and the mug (2)
    for n, item in enumerate(payload["orderItems"]):
        item.update(orderItemId=f"{bol_id}{n}", cancellationRequest=True, quantityCancelled=0)
    await sandbox("POST", f"{bol_url}/_sandbox/orders", copy.deepcopy(payload))
    order_id = f"order-bol-{bol_id}"

    async with running_engine(temporal_client, db, stock_feed=True, **bol_settings(bol_url)) as engine:
        pulled = await pull(engine, "bol")
        assert (pulled.pulled, pulled.cancelled) == (1, 1)
        await engine.wait_for_status(order_id, "CANCELLED")

        [sent] = await eventually(
            lambda: sandbox("GET", f"{bol_url}/_sandbox/cancellations"), "a bol cancellation", poke=stock_feed(engine)
        )
        assert sorted((item["orderItemId"], item["reasonCode"]) for item in sent["orderItems"]) == [
            (f"{bol_id}0", "REQUESTED_BY_CUSTOMER"),
            (f"{bol_id}1", "REQUESTED_BY_CUSTOMER"),
        ]

        async def notified() -> list[str]:
            return timeline(db.session_factory, order_id, "channel_notified")

        await eventually(notified, "the timeline entry", poke=stock_feed(engine))
        # bol now shows the items cancelled; the next pull hears of it, and nothing more goes back.
        again = await pull(engine, "bol")
        assert again.cancelled == 0
    assert timeline(db.session_factory, order_id, "channel_notified") == ["cancellation: bol told (customer_request)"]
    assert len(await sandbox("GET", f"{bol_url}/_sandbox/cancellations")) == 1


async def test_a_staff_cancel_reaches_shopify_as_order_cancel_and_shopifys_own_cancel_does_not_go_back(
    temporal_client, sqlite_database, shopify_url
):
    db = sqlite_database
    add_location(db.session_factory, "AMS")
    stock(db.session_factory, "AMS", {TEE: 0})  # known, none to sell: the orders wait as backorders
    ours, theirs = shopify_payload([(TEE, 2, "19.95")]), shopify_payload([(TEE, 1, "19.95")])
    for payload in (ours, theirs):
        await sandbox("POST", f"{shopify_url}/_sandbox/orders", payload)
    settings = shopify_settings(shopify_url)
    ours_id, theirs_id = f"order-shopify-{ours['id']}", f"order-shopify-{theirs['id']}"

    async with running_engine(temporal_client, db, stock_feed=True, **settings) as engine:
        with api_client(engine, TOKEN) as api:
            for payload in (ours, theirs):
                raw, headers = signed(payload)
                created = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
                assert created.status_code == 202, created.text
            await engine.wait_for_status(ours_id, "BACKORDERED")
            await engine.wait_for_status(theirs_id, "BACKORDERED")

            cancelled = await asyncio.to_thread(
                api.post, f"/orders/{ours_id}/cancel", json={"reason": "the customer phoned"}, headers=STAFF
            )
            assert cancelled.status_code == 202, cancelled.text
            raw, headers = signed({**theirs, "cancelled_at": "2026-11-20T15:00:00+01:00", "cancel_reason": "customer"})
            headers["X-Shopify-Topic"] = "orders/cancelled"
            webhook = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
            assert webhook.status_code == 202, webhook.text
            await engine.wait_for_status(ours_id, "CANCELLED")
            await engine.wait_for_status(theirs_id, "CANCELLED")

        [sent] = await eventually(
            lambda: sandbox("GET", f"{shopify_url}/_sandbox/cancellations"),
            "a Shopify orderCancel",
            poke=stock_feed(engine),
        )
        assert sent["order_id"] == f"gid://shopify/Order/{ours['id']}"
        assert (sent["reason"], sent["restock"], sent["notify_customer"]) == ("OTHER", False, True)
        assert sent["refund_method"] == {"originalPaymentMethodsRefund": True}
        assert "the customer phoned" in sent["staff_note"]
    with db.session() as session:  # Shopify cancelled the other itself: no notice was ever written
        assert cancellation_notices.notice_of(session, theirs_id) is None
    assert timeline(db.session_factory, ours_id, "channel_notified") == ["cancellation: shopify told (other)"]
    assert len(await sandbox("GET", f"{shopify_url}/_sandbox/cancellations")) == 1
