"""Outbound events end to end: a real order through the worker (the sandbox warehouse ships it)
reaches a subscriber as order.created, the status changes and shipment.shipped, then
shipment.delivered once staff mark the parcel delivered, each verified with the `standardwebhooks`
package's own verifier, in the order they happened, delivered by the EventDeliveryWorkflow; a
second subscriber that never answers in time holds up neither the order nor the first one."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from tests.event_receiver import SLOW, receiving
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import api_client, running_engine, until

TOKEN = "events-flow-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


def _order() -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"EVT-{next_id()}",
        "currency": "EUR",
        "lines": [{"sku": "MUG", "quantity": 2, "unit_price": {"amount_minor": 1250, "currency": "EUR"}}],
        "shipping_address": {
            "name": "Sam",
            "line1": "Oudegracht 1",
            "postcode": "3511 AA",
            "city": "Utrecht",
            "country": "NL",
        },
        "payment_method": "pm_card_visa",
    }


async def test_a_real_order_reaches_a_subscriber_from_created_to_delivered(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(
        temporal_client, db, event_delivery=True, event_delivery_window=2, event_http_timeout=1
    ) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 5})
        with receiving() as receiver, receiving(script=[SLOW] * 1000) as stuck, api_client(engine, TOKEN) as api:
            for endpoint in (stuck, receiver):
                made = await asyncio.to_thread(
                    api.post, "/admin/event-subscriptions", json={"url": endpoint.url, "event_types": []}, headers=STAFF
                )
                assert made.status_code == 201, made.text
                endpoint.secret = made.json()["secret"]
            placed = await asyncio.to_thread(api.post, "/orders", json=_order(), headers=STAFF)
            assert placed.status_code == 202, placed.text
            order_id = placed.json()["order_id"]
            await engine.wait_for_status(order_id, "SHIPPED")

            def of_order() -> list[Any]:
                return [r for r in receiver.accepted() if r.data.get("order_id") == order_id]

            await until(lambda: any(r.type == "shipment.shipped" for r in of_order()), "shipment.shipped delivered")
            view = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            [shipment] = view["shipments"]
            marked = await asyncio.to_thread(
                api.post, f"/shipments/{shipment['shipment_id']}/delivered", json={}, headers=STAFF
            )
            assert marked.status_code in (200, 202), marked.text
            await until(lambda: any(r.type == "shipment.delivered" for r in of_order()), "shipment.delivered delivered")

            got = of_order()
            assert all(r.verified for r in receiver.requests)
            types = [r.type for r in got]
            assert types[0] == "order.created" and got[0].data["total"]["currency"] == "EUR"
            assert types.index("shipment.shipped") < types.index("shipment.delivered")
            changes = [(r.data["from"], r.data["to"]) for r in got if r.type == "order.status_changed"]
            assert changes[0][0] == "RECEIVED" and changes[-1][1] == "SHIPPED"
            assert all(a[1] == b[0] for a, b in itertools.pairwise(changes))  # a chain, in order
            shipped = next(r for r in got if r.type == "shipment.shipped")
            assert shipped.data["shipment_id"] == shipment["shipment_id"] and shipped.data["lines"] == [
                {"sku": "MUG", "quantity": 2}
            ]
            assert any(r.type == "stock.changed" and r.data["sku"] == "MUG" for r in receiver.accepted())
            assert len({r.event_id for r in got}) == len(got)
            assert stuck.arrived and not stuck.accepted()  # tried all along, never in anyone's way
