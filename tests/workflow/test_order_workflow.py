"""OrderWorkflow on a real Temporal dev server with the real activities and a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.payments import PaymentStatus
from domain.status import OrderStatus
from integrations.providers import Dispatch
from integrations.sandbox.warehouse import SandboxWarehouse
from persistence.guarded_writes import inventory
from persistence.models import PaymentRecord, ShipmentRecord, StockMovement
from persistence.read_model import orders as order_store
from services.cancel import request_cancel
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.gates import Gate, GatedWarehouse
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow
from workflows.search_attributes import CHANNEL, ORDER_STATUS


def _stock(db, location_id, sku):
    with db.session() as session:
        return inventory.stock_row(session, location_id, sku)


def _movements(db, order_id):
    with db.session() as session:
        rows = session.scalars(
            select(StockMovement).where(StockMovement.order_id == order_id).order_by(StockMovement.id)
        )
        return [(m.kind, m.sku, m.on_hand_delta, m.reserved_delta) for m in rows]


async def test_a_paid_order_ships_and_completes_after_the_returns_window(temporal_client, database):
    async with running_engine(temporal_client, database, return_window=timedelta(seconds=1)) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"A": 5, "B": 2})
        order = make_order([("A", 2, 1250), ("B", 1, 999)])
        order_id, duplicate = await start_order(temporal_client, engine.settings, order)
        assert (order_id, duplicate) == (f"order-webshop-{order.external_id}", False)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        result = await asyncio.wait_for(handle.result(), 60)

        assert result.status is OrderStatus.COMPLETED
        with database.session() as session:
            record = order_store.get_order(session, order_id)
            assert record.status == "COMPLETED" and record.shipped_at and record.completed_at
            [shipment] = record.shipments
            assert (shipment.location_id, shipment.status, shipment.carrier) == ("AMS", "SHIPPED", "SANDBOX-POST")
            assert shipment.tracking_number.startswith("SBX")
            kinds = [event.kind for event in order_store.order_events(session, order_id)]
        assert kinds.index("status:RESERVED") < kinds.index("status:IN_FULFILMENT") < kinds.index("shipped")
        assert kinds.index("shipped") < kinds.index("status:SHIPPED") < kinds.index("status:COMPLETED")
        assert (_stock(database, "AMS", "A").on_hand, _stock(database, "AMS", "A").reserved) == (3, 0)
        assert (_stock(database, "AMS", "B").on_hand, _stock(database, "AMS", "B").reserved) == (1, 0)
        assert _movements(database, order_id) == [
            ("reservation", "A", 0, 2),
            ("reservation", "B", 0, 1),
            ("shipment", "A", -2, -2),
            ("shipment", "B", -1, -1),
        ]
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(ORDER_STATUS) == "COMPLETED" and attributes.get(CHANNEL) == "webshop"
        assert (await start_order(temporal_client, engine.settings, order)) == (order_id, True)
        if database.kind == "sqlite":
            await record_history(handle, "paid_order_completed")
            await record_history(temporal_client.get_workflow_handle(f"shipment-{order_id}-AMS"), "paid_order_shipment")


async def test_an_unpaid_order_is_authorized_then_captured_in_full(engine):
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"A": 3})
    order = make_order([("A", 1, 2500)], paid=False, payment_method="pm_card_visa")
    order_id, _ = await start_order(engine.client, engine.settings, order)
    await engine.wait_for_status(order_id, "SHIPPED")
    state = await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    assert state.status is OrderStatus.SHIPPED and state.shipping_started
    assert state.payment_status is PaymentStatus.CAPTURED
    assert state.shipments[0].tracking_number and state.shipments[0].status == "SHIPPED"
    with engine.db.session() as session:
        payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        assert (payment.status, payment.authorized_minor, payment.captured_minor) == ("CAPTURED", 2995, 2995)
    handle = engine.client.get_workflow_handle(order_id)
    await handle.terminate("test done")
    await record_history(handle, "unpaid_order_captured")


async def test_a_declined_card_cancels_the_order_with_nothing_reserved(engine):
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"A": 3})
    order = make_order([("A", 1, 2500)], paid=False, payment_method="pm_card_chargeDeclined")
    order_id, _ = await start_order(engine.client, engine.settings, order)
    result = await asyncio.wait_for(engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id).result(), 30)
    assert result.status is OrderStatus.CANCELLED
    assert _stock(engine.db, "AMS", "A").reserved == 0
    assert _movements(engine.db, order_id) == []
    with engine.db.session() as session:
        kinds = [e.kind for e in order_store.order_events(session, order_id)]
    assert "payment_declined" in kinds and kinds[-1] == "status:CANCELLED"


async def test_an_unknown_sku_holds_the_order_until_a_person_fixes_and_releases_it(engine):
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"A": 3})
    order = make_order([("A", 1, 1000), ("GHOST-1", 1, 500)])
    order_id, _ = await start_order(engine.client, engine.settings, order)
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "ON_HOLD")
    with engine.db.session() as session:
        assert "GHOST-1" in order_store.get_order(session, order_id).hold_reason
    # The search attribute follows once the workflow has heard the activity finish.
    await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
    assert (await handle.describe()).typed_search_attributes.get(ORDER_STATUS) == "ON_HOLD"

    await handle.signal(OrderWorkflow.release, ReleaseRequest(note="too early"))
    await asyncio.sleep(1)
    assert (await handle.query(OrderWorkflow.state)).status is OrderStatus.ON_HOLD  # still unknown: held again

    stock(engine.db.session_factory, "AMS", {"GHOST-1": 1})
    await handle.signal(OrderWorkflow.release, ReleaseRequest(note="SKU added"))
    await engine.wait_for_status(order_id, "SHIPPED")
    with engine.db.session() as session:
        assert order_store.get_order(session, order_id).hold_reason is None
    await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    await handle.terminate("test done")
    await record_history(handle, "held_then_released")


async def test_cancel_while_on_hold_cancels_with_nothing_to_undo(engine):
    order = make_order([("GHOST-2", 1, 500)])
    order_id, _ = await start_order(engine.client, engine.settings, order)
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "ON_HOLD")
    await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer changed mind"))
    assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
    assert _movements(engine.db, order_id) == []


async def test_a_backordered_order_ships_after_a_restock_and_release(engine):
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"A": 1})
    first = make_order([("A", 1, 1000)])
    second = make_order([("A", 1, 1000)])
    first_id, _ = await start_order(engine.client, engine.settings, first)
    await engine.wait_for_status(first_id, "SHIPPED")
    second_id, _ = await start_order(engine.client, engine.settings, second)
    await engine.wait_for_status(second_id, "BACKORDERED")
    stock(engine.db.session_factory, "AMS", {"A": 1})
    await engine.client.get_workflow_handle(second_id).signal(OrderWorkflow.release, ReleaseRequest())
    await engine.wait_for_status(second_id, "SHIPPED")
    assert _stock(engine.db, "AMS", "A").on_hand == 0
    for order_id in (first_id, second_id):
        await engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id).terminate("test done")


async def test_cancel_during_fulfilment_releases_stock_and_voids_exactly_once(temporal_client, sqlite_database):
    pick = Gate()
    warehouse = GatedWarehouse({"pick": pick})
    async with running_engine(temporal_client, sqlite_database, warehouse=warehouse) as engine:
        add_location(sqlite_database.session_factory, "AMS")
        stock(sqlite_database.session_factory, "AMS", {"A": 4})
        order = make_order([("A", 2, 1500)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert await asyncio.to_thread(pick.reached.wait, 30)
        factory = sqlite_database.session_factory
        assert await request_cancel(temporal_client, factory, order_id, CancelRequest("fraud check failed")) is None
        assert await request_cancel(temporal_client, factory, order_id, CancelRequest("asked twice")) is None
        pick.open.set()
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED

        assert _movements(sqlite_database, order_id) == [("reservation", "A", 0, 2), ("release", "A", 0, -2)]
        assert (_stock(sqlite_database, "AMS", "A").on_hand, _stock(sqlite_database, "AMS", "A").reserved) == (4, 0)
        with sqlite_database.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.status, payment.voided_minor, payment.captured_minor) == ("VOIDED", 3495, 0)
            shipment = session.scalar(select(ShipmentRecord).where(ShipmentRecord.order_id == order_id))
            assert shipment.status == "WITHDRAWN"
            assert order_store.get_order(session, order_id).status == "CANCELLED"
        await record_history(handle, "cancelled_during_fulfilment")


async def test_cancel_after_shipping_is_refused(engine):
    add_location(engine.db.session_factory, "AMS")
    stock(engine.db.session_factory, "AMS", {"A": 1})
    order_id, _ = await start_order(engine.client, engine.settings, make_order([("A", 1, 1000)]))
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "SHIPPED")
    await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="too late"))
    await asyncio.sleep(0.5)
    state = await handle.query(OrderWorkflow.state)
    assert state.status is OrderStatus.SHIPPED and not state.cancel_requested
    assert engine.status(order_id) == "SHIPPED"
    await handle.terminate("test done")


class FlakyWarehouse(SandboxWarehouse):
    """Dispatch fails twice (a carrier timeout) before it works: the retry must ship once."""

    def __init__(self) -> None:
        self.calls = 0

    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch:
        self.calls += 1
        if self.calls <= 2:
            raise ConnectionError("carrier API timed out")
        return super().dispatch(shipment_id, location_id)


@pytest.mark.parametrize("attempts", [3])
async def test_a_failing_carrier_is_retried_and_ships_once(temporal_client, sqlite_database, attempts):
    warehouse = FlakyWarehouse()
    async with running_engine(temporal_client, sqlite_database, warehouse=warehouse) as engine:
        add_location(sqlite_database.session_factory, "AMS")
        stock(sqlite_database.session_factory, "AMS", {"A": 2})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1000)]))
        await engine.wait_for_status(order_id, "SHIPPED", timeout=60)
        assert warehouse.calls == attempts
        assert [m for m in _movements(sqlite_database, order_id) if m[0] == "shipment"] == [("shipment", "A", -1, -1)]
        await temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id).terminate("test done")
