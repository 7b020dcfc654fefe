"""Channels change orders too: a bol.com customer's cancellation request on some items of an order
that goes on is an edit by bol, confirmed at bol per item; Shopify's own order edit (webhook
`orders/edited`) is an edit by Shopify. Real-HTTP sandboxes, the real dev server and database."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

from sqlalchemy import select

from contracts.order_edits import EditChange, EditOrderRequest
from domain.status import OrderStatus
from persistence.guarded_writes import cancellation_notices
from persistence.master_data import catalogue
from persistence.models import StockLevel
from persistence.read_model import order_versions
from persistence.unit_of_work import UnitOfWork
from services.intake import start_order
from tests.channels.factories import channel_order, timeline
from tests.factories import add_location, next_id, shopify_payload, signed, stock
from tests.workflow.conftest import api_client, running_engine
from tests.workflow.test_channel_out import eventually, sandbox, stock_feed
from tests.workflow.test_channel_pull import bol_settings, pull
from tests.workflow.test_order_edits import _running, _ship
from workflows.order import OrderWorkflow

DATA = Path(__file__).resolve().parents[1] / "unit" / "data"
TEE, MUG = "TEE-ORG-BLK-M", "MUG-STONE-350"
TOKEN = "channel-edits-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


async def test_a_bol_customer_cancelling_one_item_of_a_running_order_is_an_edit_confirmed_at_bol(
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
        item.update(orderItemId=f"{bol_id}{n}", quantityCancelled=0)
    await sandbox("POST", f"{bol_url}/_sandbox/orders", copy.deepcopy(payload))
    order_id, mug_item = f"order-bol-{bol_id}", f"{bol_id}1"

    settings = bol_settings(bol_url)
    async with running_engine(temporal_client, db, stock_feed=True, auto_confirm=False, **settings) as engine:
        assert (await pull(engine, "bol")).started == 1
        await engine.wait_for_live_status(order_id, OrderStatus.IN_FULFILMENT)
        first = f"shipment-{order_id}-AMS"
        await _running(temporal_client, first)

        # The customer asks bol to cancel the mug; the next pull hears it.
        await asyncio.sleep(1.1)  # bol's change stamps are in seconds
        await sandbox("POST", f"{bol_url}/_sandbox/orders/{bol_id}/cancel", {"requested": True, "items": [mug_item]})
        await pull(engine, "bol")

        second = f"{first}-2"
        await _running(temporal_client, second)
        with db.session() as session:
            levels = {row.sku: row.reserved for row in session.scalars(select(StockLevel))}
            assert levels == {TEE: 3, MUG: 0}
            [_, version] = order_versions.versions(session, order_id)
            assert version.changed_by == "bol" and version.changes[0].startswith("removed 2 x MUG-STONE-350")

        [sent] = await eventually(
            lambda: sandbox("GET", f"{bol_url}/_sandbox/cancellations"),
            "a bol item cancellation",
            poke=stock_feed(engine),
        )
        assert [(item["orderItemId"], item["reasonCode"]) for item in sent["orderItems"]] == [
            (mug_item, "REQUESTED_BY_CUSTOMER")
        ]
        await _ship(temporal_client, second, "AMS", "3SBOLEDIT")
        await engine.wait_for_status(order_id, "SHIPPED")
        again = await pull(engine, "bol")  # bol shows the mug cancelled now: nothing more happens
        assert again.cancelled == 0
    assert len(await sandbox("GET", f"{bol_url}/_sandbox/cancellations")) == 1
    assert "cancellation: bol told (customer_request)" in timeline(db.session_factory, order_id, "channel_notified")


async def test_shopifys_own_order_edit_is_made_here_by_shopify_once(temporal_client, sqlite_database):
    db = sqlite_database
    add_location(db.session_factory, "AMS")
    stock(db.session_factory, "AMS", {TEE: 10, MUG: 10})
    payload = shopify_payload([(TEE, 2, "19.95"), (MUG, 1, "12.50")])
    order_id = f"order-shopify-{payload['id']}"
    tee_item, mug_item = str(payload["id"] * 10 + 1), str(payload["id"] * 10 + 2)
    edit = {
        "order_edit": {
            "id": 78912,
            "app_id": None,
            "created_at": "2026-11-20T15:10:00+01:00",
            "notify_customer": False,
            "order_id": payload["id"],
            "staff_note": "customer phoned",
            "user_id": 4521,
            "line_items": {
                "additions": [{"id": mug_item, "delta": 1}, {"id": 999999, "delta": 1}],
                "removals": [{"id": tee_item, "delta": 1}],
            },
            "discounts": {"additions": [], "removals": []},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        with api_client(engine, TOKEN) as api:
            raw, headers = signed(payload)
            created = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
            assert created.status_code == 202, created.text
            await engine.wait_for_live_status(order_id, OrderStatus.IN_FULFILMENT)

            raw, headers = signed(edit)
            headers["X-Shopify-Topic"] = "orders/edited"
            first = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
            assert first.status_code == 202 and first.json() == {"order_id": order_id, "duplicate": False}
            again = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
            assert again.status_code == 202 and again.json()["duplicate"] is True
            forged = await asyncio.to_thread(
                api.post, "/webhooks/shopify", content=raw, headers={**headers, "X-Shopify-Hmac-Sha256": "AAAA"}
            )
            assert forged.status_code == 401
            raw, headers = signed({"order_edit": {"id": 1}})
            headers["X-Shopify-Topic"] = "orders/edited"
            malformed = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
            assert malformed.status_code == 422

            view = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            assert [(line["sku"], line["quantity"]) for line in view["lines"]] == [(TEE, 1), (MUG, 1), (MUG, 1)]
            [_, version] = view["versions"]
            assert version["changed_by"] == "shopify" and "shopify order edit 78912" in version["reason"]
            assert view["total"]["amount_minor"] == 1995 + 1250 + 1250 + 495
            notes = timeline(db.session_factory, order_id, "channel_edit")
            assert notes == ["shopify added line items unknown here (999999): add them with an edit"]


async def test_lines_a_person_takes_off_a_bol_order_are_cancelled_at_bol_and_a_reduction_is_noted(
    temporal_client, sqlite_database
):
    db = sqlite_database
    order = channel_order("bol", [("MUG", 3, "3095071001"), ("TEE", 1, "3095071002")], external_id=str(next_id()))
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5, "TEE": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.IN_FULFILMENT)
        request = EditOrderRequest(
            [EditChange("reduce_line", line=0, quantity=1), EditChange("remove_line", line=1)], "anna@shop.example"
        )
        await temporal_client.get_workflow_handle(order_id).execute_update(OrderWorkflow.edit_order, request)
    with db.session() as session:
        row = cancellation_notices.notice_of(session, order_id)
        assert row is not None and row.notice["line_ids"] == ["3095071002"] and row.notice["reason_kind"] == "other"
    [note] = timeline(db.session_factory, order_id, "channel_not_notified")
    assert "3095071001" in note and "whole items only" in note
