"""Orders we do not ship, through the real workflow: a POS sale over a store counter (the store's
stock catches up, nothing is reserved, shipped or paid) and an order the channel fulfils from its
own stock (Amazon AFN, Bol.com FBB: recorded only)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from api import order_view
from contracts.inventory import SellAtCounterInput
from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_CHANNEL, Order
from domain.outside_fulfilment import COUNTER_SALE_REFUSAL
from domain.status import OrderStatus
from persistence.guarded_writes import inventory
from persistence.models import PaymentRecord, ShipmentRecord, StockMovement, StockOutbox
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.cancel import request_cancel
from services.intake import cancel_from_channel, start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow
from workflows.search_attributes import ORDER_STATUS

STORE = "STORE-UTR"


def _counter_sale(lines: list[tuple[str, int, int]], store: str = STORE) -> Order:
    order = make_order(lines, channel="pos", paid=True, shipping_minor=0)
    return dataclasses.replace(order, fulfilled_by=FULFILLED_AT_COUNTER, pickup_location_id=store)


def _by_channel(lines: list[tuple[str, int, int]], channel: str = "amazon") -> Order:
    return dataclasses.replace(make_order(lines, channel=channel, paid=True), fulfilled_by=FULFILLED_BY_CHANNEL)


def _level(db, location_id, sku):
    with db.session() as session:
        row = inventory.stock_row(session, location_id, sku)
        return (row.on_hand, row.reserved) if row else None


def _movements(db, order_id=None):
    with db.session() as session:
        query = select(StockMovement).order_by(StockMovement.id)
        if order_id is not None:
            query = query.where(StockMovement.order_id == order_id)
        return [(m.kind, m.location_id, m.sku, m.on_hand_delta, m.reserved_delta) for m in session.scalars(query)]


def _outbox_rows(db, sku=None):
    with db.session() as session:
        query = select(func.count()).select_from(StockOutbox)
        if sku is not None:
            query = query.where(StockOutbox.sku == sku)
        return session.scalar(query)


def _events(db, order_id):
    with db.session() as session:
        return [(e.kind, e.detail) for e in order_store.order_events(session, order_id)]


def _nothing_shipped_or_paid(db, order_id):
    with db.session() as session:
        shipments = session.scalar(select(func.count()).where(ShipmentRecord.order_id == order_id))
        payments = session.scalar(select(func.count()).where(PaymentRecord.order_id == order_id))
    return shipments == 0 and payments == 0


def _reserve_for_another_order(db, location_id, demand):
    with UnitOfWork(db.session_factory) as uow:
        inventory.reserve(uow.session, location_id, demand, "order-webshop-someone-else")
        uow.commit()


async def test_a_counter_sale_takes_the_units_off_the_store_and_ships_nothing(temporal_client, database):
    async with running_engine(temporal_client, database, return_window=timedelta(seconds=1)) as engine:
        add_location(database.session_factory, "WH")
        add_location(database.session_factory, STORE, kind="store")
        stock(database.session_factory, "WH", {"A": 10})
        stock(database.session_factory, STORE, {"A": 5, "B": 3})
        _reserve_for_another_order(database, STORE, {"A": 1})
        outbox_before = {sku: _outbox_rows(database, sku) for sku in ("A", "B")}
        order = _counter_sale([("A", 2, 1250), ("B", 1, 999)])
        order_id, duplicate = await start_order(temporal_client, engine.settings, order)
        assert (order_id, duplicate) == (f"order-pos-{order.external_id}", False)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

        assert _level(database, STORE, "A") == (3, 1)  # 2 sold; the other order's reservation stands
        assert _level(database, STORE, "B") == (2, 0)
        assert _level(database, "WH", "A") == (10, 0)
        assert _movements(database, order_id) == [
            ("counter_sale", STORE, "A", -2, 0),
            ("counter_sale", STORE, "B", -1, 0),
        ]
        assert all(_outbox_rows(database, sku) > outbox_before[sku] for sku in ("A", "B"))  # channels hear of it
        assert _nothing_shipped_or_paid(database, order_id)
        events = _events(database, order_id)
        assert ("status:SHIPPED", f"sold at the counter at {STORE}") in events
        kinds = [kind for kind, _ in events]
        assert kinds == ["received", "counter_sale", "invoice_issued", "status:SHIPPED", "status:COMPLETED"]
        with database.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None
            assert record.fulfilled_by == "counter" and record.shipped_at and record.completed_at
            public = order_view.detail(record, order_store.order_events(session, order_id))
        assert public.fulfilled_by == "counter" and public.shipments == [] and public.payments == []
        assert (await handle.describe()).typed_search_attributes.get(ORDER_STATUS) == "COMPLETED"

        # A second delivery of the same sale starts nothing and moves nothing.
        assert await start_order(temporal_client, engine.settings, order) == (order_id, True)
        assert _level(database, STORE, "A") == (3, 1)
        assert len(_movements(database, order_id)) == 2
        if database.kind == "sqlite":
            await record_history(handle, "counter_sale")


def test_a_retried_counter_sale_activity_takes_the_stock_once(database):
    add_location(database.session_factory, STORE, kind="store")
    stock(database.session_factory, STORE, {"A": 5})
    activities = InventoryActivities(database.session_factory)
    env = ActivityEnvironment()
    order_id = "order-pos-retried-1"
    request = SellAtCounterInput(order_id, STORE, {"A": 2}, f"{order_id}:counter-sale", datetime.now(UTC))
    first = env.run(activities.sell_at_counter, request)
    again = env.run(activities.sell_at_counter, request)
    # Even under another key (its stored result lost), the ledger knows the sale was taken.
    other_key = env.run(activities.sell_at_counter, dataclasses.replace(request, idempotency_key="elsewhere"))
    assert first == again == other_key
    assert first.taken == {"A": 2} and first.short == {}
    assert _level(database, STORE, "A") == (3, 0)
    assert _movements(database, order_id) == [("counter_sale", STORE, "A", -2, 0)]


async def test_a_short_shelf_is_sold_and_a_person_is_asked_to_count_it(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "WH")
        add_location(db.session_factory, STORE, kind="store")
        stock(db.session_factory, STORE, {"A": 3})
        stock(db.session_factory, "WH", {"B": 4})  # known, but the store never had a record of it
        _reserve_for_another_order(db, STORE, {"A": 2})
        order = _counter_sale([("A", 4, 1000), ("B", 1, 500)])
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_status(order_id, "SHIPPED")

        assert _level(db, STORE, "A") == (2, 2)  # only the unreserved unit came off: on_hand >= reserved
        assert _level(db, STORE, "B") is None and _level(db, "WH", "B") == (4, 0)
        assert _movements(db, order_id) == [("counter_sale", STORE, "A", -1, 0)]
        discrepancies = [detail for kind, detail in _events(db, order_id) if kind == "stock_discrepancy"]
        assert discrepancies == [
            f"count the shelf at {STORE}: the record was short by 3 of A",
            f"count the shelf at {STORE}: it had no stock record of B, 1 sold",
        ]
        with db.session() as session:
            [ledger_row] = session.scalars(select(StockMovement).where(StockMovement.order_id == order_id))
            assert "short by 3" in ledger_row.reason
        await temporal_client.get_workflow_handle(order_id).terminate("test done")


async def test_a_counter_sale_at_an_unknown_store_waits_on_hold_and_cannot_be_cancelled(engine):
    stock_at = engine.db.session_factory
    add_location(stock_at, "WH")
    stock(stock_at, "WH", {"A": 5})
    order = _counter_sale([("A", 1, 1000)], store="STORE-NEW")
    order_id, _ = await start_order(engine.client, engine.settings, order)
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "ON_HOLD")
    state = await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
    assert state.hold_reason == "counter sale: unknown store 'STORE-NEW'"
    with engine.db.session() as session:
        assert order_store.get_order(session, order_id).hold_reason == state.hold_reason
    assert (await handle.describe()).typed_search_attributes.get(ORDER_STATUS) == "ON_HOLD"
    assert _movements(engine.db, order_id) == []

    # Goods that left with a customer cannot be un-sold: the API and the workflow both refuse.
    refusal = await request_cancel(engine.client, stock_at, order_id, CancelRequest("typo"))
    assert refusal == COUNTER_SALE_REFUSAL
    await handle.signal(OrderWorkflow.cancel, CancelRequest("signalled anyway"))

    add_location(stock_at, "STORE-NEW", kind="store")
    stock(stock_at, "STORE-NEW", {"A": 2})
    await handle.signal(OrderWorkflow.release, ReleaseRequest(note="store opened in the system"))
    await engine.wait_for_status(order_id, "SHIPPED")
    state = await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    assert state.status is OrderStatus.SHIPPED and not state.cancel_requested and state.hold_reason is None
    assert _level(engine.db, "STORE-NEW", "A") == (1, 0)
    await handle.terminate("test done")


async def test_an_unknown_sku_holds_a_counter_sale_until_the_record_is_fixed(engine):
    add_location(engine.db.session_factory, STORE, kind="store")
    order = _counter_sale([("GHOST-POS", 1, 1000)])
    order_id, _ = await start_order(engine.client, engine.settings, order)
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "ON_HOLD")
    with engine.db.session() as session:
        assert "GHOST-POS" in order_store.get_order(session, order_id).hold_reason
    assert _movements(engine.db, order_id) == []

    stock(engine.db.session_factory, STORE, {"GHOST-POS": 4})
    await handle.signal(OrderWorkflow.release, ReleaseRequest(note="SKU received"))
    await engine.wait_for_status(order_id, "SHIPPED")
    assert _level(engine.db, STORE, "GHOST-POS") == (3, 0)
    await handle.terminate("test done")


async def test_a_completed_counter_sale_refuses_a_cancel(engine):
    add_location(engine.db.session_factory, STORE, kind="store")
    stock(engine.db.session_factory, STORE, {"A": 2})
    order_id, _ = await start_order(engine.client, engine.settings, _counter_sale([("A", 1, 1000)]))
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "SHIPPED")
    assert await request_cancel(engine.client, engine.db.session_factory, order_id, CancelRequest()) == (
        COUNTER_SALE_REFUSAL
    )
    await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="signalled anyway"))
    await asyncio.sleep(0.5)
    state = await handle.query(OrderWorkflow.state)
    assert state.status is OrderStatus.SHIPPED and state.shipping_started and not state.cancel_requested
    assert _level(engine.db, STORE, "A") == (1, 0)
    await handle.terminate("test done")


async def test_an_order_the_channel_fulfils_is_recorded_and_moves_no_stock(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, return_window=timedelta(seconds=1)) as engine:
        add_location(db.session_factory, "WH")
        stock(db.session_factory, "WH", {"A": 5})
        movements_before, outbox_before = _movements(db), _outbox_rows(db)
        # FBA-ONLY-1 is a SKU we never stock: the channel ships it from its own warehouse.
        order = _by_channel([("A", 1, 2000), ("FBA-ONLY-1", 2, 1500)])
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

        assert _movements(db) == movements_before and _outbox_rows(db) == outbox_before
        assert _level(db, "WH", "A") == (5, 0)
        assert _nothing_shipped_or_paid(db, order_id)
        events = _events(db, order_id)
        assert [kind for kind, _ in events] == ["received", "status:SHIPPED", "status:COMPLETED"]
        assert ("status:SHIPPED", "fulfilled by amazon") in events
        with db.session() as session:
            record = order_store.get_order(session, order_id)
            assert record is not None
            assert record.fulfilled_by == "channel" and record.hold_reason is None
            assert order_view.detail(record, []).fulfilled_by == "channel"
        await record_history(handle, "fulfilled_by_channel")


async def test_the_channel_cancels_an_order_it_fulfils(engine):
    order = _by_channel([("FBB-ONLY-1", 1, 2500)], channel="bol")
    order_id, _ = await start_order(engine.client, engine.settings, order)
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    await engine.wait_for_status(order_id, "SHIPPED")
    state = await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    assert state.status is OrderStatus.SHIPPED
    order_id_again, finished = await cancel_from_channel(
        engine.client, engine.settings, order, "cancelled by the customer on bol.com", engine.db.session_factory
    )
    assert (order_id_again, finished) == (order_id, False)
    assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
    assert ("status:CANCELLED", "cancelled by the customer on bol.com") in _events(engine.db, order_id)
    assert _movements(engine.db) == [] and _nothing_shipped_or_paid(engine.db, order_id)
    assert (await handle.describe()).typed_search_attributes.get(ORDER_STATUS) == "CANCELLED"


async def test_a_channel_cancel_that_overtakes_the_order_records_it_cancelled(engine):
    order = _by_channel([("FBA-ONLY-2", 1, 2500)])
    order_id, finished = await cancel_from_channel(
        engine.client, engine.settings, order, "buyer cancelled", engine.db.session_factory
    )
    assert not finished
    handle = engine.client.get_workflow_handle_for(OrderWorkflow.run, order_id)
    assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
    assert [kind for kind, _ in _events(engine.db, order_id)] == ["received", "status:CANCELLED"]
    assert _movements(engine.db) == []


async def test_a_counter_sale_at_a_warehouse_waits_on_hold_and_takes_nothing(engine):
    """Whatever starts it (the API refuses it for a warehouse it knows): only a store sells over a counter."""
    add_location(engine.db.session_factory, "WH")
    stock(engine.db.session_factory, "WH", {"A": 5})
    order_id, _ = await start_order(engine.client, engine.settings, _counter_sale([("A", 5, 1000)], store="WH"))
    await engine.wait_for_status(order_id, "ON_HOLD")
    state = await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
    assert (
        state.hold_reason
        == "counter sale: WH is a warehouse, not a store: only a store's counter sells over the counter"
    )
    assert _level(engine.db, "WH", "A") == (5, 0)
    assert _movements(engine.db, order_id) == []
    await engine.client.get_workflow_handle(order_id).terminate("test done")
