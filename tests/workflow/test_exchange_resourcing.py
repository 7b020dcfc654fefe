"""An exchange's replacement that does not leave is sourced again (patch exchange-resource-v1), on
a real worker and both databases, with staff confirming every step: a replacement pick confirmed
short ships what was found and the rest again from stock elsewhere; one found nowhere, with
nothing left to source it from, gives back what the customer put towards it, exact to the cent
(the difference refunded before shipping is not refunded twice); with OMS_EXCHANGE_OUT_OF_STOCK=
backorder it waits for a restock and ships from the same location again."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient
from temporalio.client import Client
from temporalio.service import RPCError

from activities.stock_feed import StockFeedActivities
from contracts.return_lifecycle import ReturnView
from contracts.returns import ReturnAccepted
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.status import OrderStatus
from persistence.models import ShipmentRecord
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import (
    Engine,
    api_client,
    ask_exchange,
    event_kinds,
    received_and_restocked,
    refunded,
    return_record,
    running_engine,
    stock_of,
    until,
)
from tests.workflow.histories import record_history
from workflows.returns import ReturnWorkflow
from workflows.shipment import ShipmentWorkflow

TOKEN = "resourcing-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
AMSTERDAM = {"name": "Robin", "city": "Amsterdam", "country": "NL", "latitude": 52.37, "longitude": 4.90}


async def _post(api: TestClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return await asyncio.to_thread(api.post, path, json=body or {}, headers=STAFF)


async def _progress(client: Client, shipment_id: str) -> ShipmentProgress:
    async def ask() -> ShipmentProgress | None:
        try:
            progress: ShipmentProgress = await client.get_workflow_handle(shipment_id).query(ShipmentWorkflow.progress)
            return progress
        except RPCError:
            return None

    for _ in range(300):
        if (found := await ask()) is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{shipment_id} never ran")


async def _by_hand(client: Client, shipment_id: str, location: str, picked: dict[str, int] | None = None) -> None:
    """Staff pick (`picked`: what was found), pack and ship; a pick that found nothing ends it."""
    handle = client.get_workflow_handle(shipment_id)
    await _progress(client, shipment_id)
    done = await handle.execute_update(
        ShipmentWorkflow.confirm_step, StepConfirmation("pick", location, quantities=picked)
    )
    if not done.lines:
        return
    await handle.execute_update(ShipmentWorkflow.confirm_step, StepConfirmation("pack", location))
    tracking = f"JD{next_id():06d}"
    await handle.execute_update(
        ShipmentWorkflow.confirm_step, StepConfirmation("ship", location, carrier="DHL", tracking_number=tracking)
    )


async def _shipped_order(engine: Engine, api: TestClient, lines: list[tuple[str, int, int]]) -> str:
    placed = await _post(
        api,
        "/orders",
        {
            "channel": "webshop",
            "external_id": f"RR-{next_id()}",
            "currency": "EUR",
            "lines": [
                {"sku": sku, "quantity": n, "unit_price": {"amount_minor": price, "currency": "EUR"}}
                for sku, n, price in lines
            ],
            "total": {"amount_minor": sum(n * price for _, n, price in lines) + 495, "currency": "EUR"},
            "shipping": {"amount_minor": 495, "currency": "EUR"},
            "shipping_address": AMSTERDAM,
            "customer_email": "robin@example.org",
            "payment_method": "pm_card_visa",
        },
    )
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    await _by_hand(engine.client, f"shipment-{order_id}-AMS", "AMS")
    await engine.wait_for_status(order_id, "SHIPPED")
    await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)  # a return asks the workflow, not the read model
    return order_id


async def _exchanged(api: TestClient, order_id: str, lines: dict[str, int], replacement: list[dict[str, Any]]) -> str:
    """An exchange asked, its parcel received at AMS and restocked there."""
    return_id = await ask_exchange(api, STAFF, order_id, lines, replacement)
    await received_and_restocked(api, STAFF, return_id, lines)
    return return_id


def _shipment(engine: Engine, shipment_id: str) -> tuple[str, dict[str, int]] | None:
    with engine.db.session() as session:
        record = session.get(ShipmentRecord, shipment_id)
        return None if record is None else (record.status, dict(record.lines))


async def test_a_replacement_picked_short_ships_what_was_found_and_the_rest_from_elsewhere(temporal_client, database):
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        add_location(database.session_factory, "AMS", latitude=52.37, longitude=4.90)
        add_location(database.session_factory, "GRO", latitude=53.22, longitude=6.57)
        stock(database.session_factory, "AMS", {"TEE": 3})
        stock(database.session_factory, "GRO", {"TEE": 5})
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 3, 1000)])
            return_id = await _exchanged(api, order_id, {"TEE": 2}, [{"sku": "TEE", "quantity": 2}])

            first = f"shipment-{order_id}-AMS-x1"  # the two back on the shelf at AMS, nearest
            assert (await _progress(engine.client, first)).lines == {"TEE": 2}
            await _by_hand(engine.client, first, "AMS", picked={"TEE": 1})  # one was not on the shelf
            again = f"shipment-{order_id}-GRO-x1-2"  # AMS has none left: the missing one from GRO
            assert (await _progress(engine.client, again)).lines == {"TEE": 1}
            await _by_hand(engine.client, again, "GRO")
            handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
            assert (await handle.result()).status == "RESOLVED"
            view = await handle.query(ReturnWorkflow.view)
            assert isinstance(view, ReturnView) and view.replacement_shipments == [first, again]
            shown = (await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)).json()

        assert shown["state"] == "RESOLVED" and shown["replacement_shipment_id"] == again, shown
        assert [(s["shipment_id"], s["status"], s["lines"]) for s in shown["replacement_shipments"]] == [
            (first, "SHIPPED", {"TEE": 1}),
            (again, "SHIPPED", {"TEE": 1}),
        ]
        assert _shipment(engine, first) == ("SHIPPED", {"TEE": 1})
        assert _shipment(engine, again) == ("SHIPPED", {"TEE": 1})
        # AMS: 3 shipped, 2 back, 1 written off short, 1 gone; GRO: 1 gone. Nothing held.
        assert stock_of(engine, "AMS", "TEE") == (0, 0) and stock_of(engine, "GRO", "TEE") == (4, 0)
        assert refunded(engine, order_id) == 0 and return_record(engine, return_id).refund_minor == 0  # like for like
        kinds = event_kinds(engine, order_id)
        assert kinds.count("exchange_shipped") == 2 and kinds.count("exchange_resourced") == 1, kinds
        assert "exchange_refunded_instead" not in kinds and kinds.count("return_resolved") == 1, kinds
        await record_history(handle, "return_exchange_resourced")


async def test_a_replacement_found_nowhere_gives_back_what_was_put_towards_it(temporal_client, database):
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        add_location(database.session_factory, "AMS", latitude=52.37, longitude=4.90)
        stock(database.session_factory, "AMS", {"TEE": 2, "CAP": 2})
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 2, 1000)])
            cap = {"sku": "CAP", "quantity": 2, "unit_price": {"amount_minor": 650, "currency": "EUR"}}
            return_id = await _exchanged(api, order_id, {"TEE": 2}, [cap])
            await until(lambda: refunded(engine, order_id) == 700, "the difference refunded before shipping")

            replacement = f"shipment-{order_id}-AMS-x1"
            await _by_hand(engine.client, replacement, "AMS", picked={"CAP": 0})  # neither cap was there
            handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
            done = await handle.result()

        # 20.00 came back; 7.00 of it went back at once, the 13.00 for the caps when none could be sent.
        assert (done.status, done.refund.amount_minor) == ("REFUNDED", 2000)
        assert refunded(engine, order_id) == 2000
        record = return_record(engine, return_id)
        assert (record.state, record.status, record.refund_minor) == ("RESOLVED", "REFUNDED", 2000)
        assert _shipment(engine, replacement) is not None
        assert stock_of(engine, "AMS", "CAP") == (0, 0)  # both written off short, nothing held
        kinds = event_kinds(engine, order_id)
        assert kinds.count("exchange_not_shipped") == 1 and kinds.count("exchange_refunded_instead") == 1, kinds
        assert "exchange_resourced" not in kinds and kinds.count("refunded") == 2, kinds


async def test_a_replacement_found_nowhere_waits_as_a_backorder_and_ships_after_the_restock(temporal_client, database):
    async with running_engine(
        temporal_client, database, auto_confirm=False, exchange_out_of_stock="backorder"
    ) as engine:
        add_location(database.session_factory, "AMS", latitude=52.37, longitude=4.90)
        stock(database.session_factory, "AMS", {"TEE": 1})
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 1, 1000)])
            return_id = await _exchanged(api, order_id, {"TEE": 1}, [{"sku": "TEE", "quantity": 1}])
            first = f"shipment-{order_id}-AMS-x1"
            await _by_hand(engine.client, first, "AMS", picked={"TEE": 0})  # the one back was not on the shelf
            await until(lambda: "exchange_waiting" in event_kinds(engine, order_id), "waiting for a restock")
            assert return_record(engine, return_id).state == "DISPOSED"
            stock(database.session_factory, "AMS", {"TEE": 3})
            feed = StockFeedActivities(database.session_factory, {}, engine.client)
            assert await feed.wake_backorders({"TEE"}) == 1
            again = f"shipment-{order_id}-AMS-x1-2"  # the same location, after its restock
            assert (await _progress(engine.client, again)).lines == {"TEE": 1}
            await _by_hand(engine.client, again, "AMS")
            handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
            assert (await handle.result()).status == "RESOLVED"

        assert _shipment(engine, first) == ("CANCELLED", {})
        assert _shipment(engine, again) == ("SHIPPED", {"TEE": 1})
        assert stock_of(engine, "AMS", "TEE") == (2, 0) and refunded(engine, order_id) == 0
        kinds = event_kinds(engine, order_id)
        assert kinds.count("exchange_not_shipped") == 1 and kinds.count("exchange_resourced") == 1, kinds
        assert kinds.count("exchange_shipped") == 1 and "exchange_refunded_instead" not in kinds, kinds
