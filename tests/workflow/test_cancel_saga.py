"""Cancel at every step: before the first parcel leaves, the saga undoes exactly what was done, once;
once a parcel has left, cancel is refused (use returns)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from contracts.order_workflow import CancelRequest
from domain.status import OrderStatus
from persistence.models import PaymentRecord, StockMovement
from persistence.read_model import orders as order_store
from services.cancel import request_cancel
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.gates import Gate, GatedGateway, GatedWarehouse
from workflows.order import OrderWorkflow


@pytest.mark.parametrize("step", ["authorize", "pick", "pack", "ship"])
async def test_cancel_at_every_step(temporal_client, sqlite_database, step):
    gate = Gate()
    gateway = GatedGateway(gate if step == "authorize" else None)
    warehouse = GatedWarehouse({step: gate} if step != "authorize" else {})
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=gateway, warehouse=warehouse) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        order = make_order([("A", 2, 1500)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert await asyncio.to_thread(gate.reached.wait, 30)
        # As the API takes it: claimed in the database (a leaving shipment takes the same lock), then signalled.
        first = await request_cancel(temporal_client, db.session_factory, order_id, CancelRequest("customer asked"))
        again = await request_cancel(temporal_client, db.session_factory, order_id, CancelRequest("asked again"))
        assert first is None and again is None
        gate.open.set()

        def moves() -> list[tuple[str, int, int]]:
            with db.session() as session:
                rows = session.scalars(select(StockMovement).where(StockMovement.order_id == order_id))
                return [(m.kind, m.on_hand_delta, m.reserved_delta) for m in rows]

        # Even mid-dispatch (label printed, parcel not yet handed over) the cancel wins: the handover
        # checks the claim under the order row's lock and withdraws instead.
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        assert moves() == ([] if step == "authorize" else [("reservation", 0, 2), ("release", 0, -2)])
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.status, payment.voided_minor, payment.captured_minor) == ("VOIDED", 3495, 0)
            kinds = [e.kind for e in order_store.order_events(session, order_id)]
            released = kinds.count("stock_released") + kinds.count("shipment_withdrawn")
            assert kinds.count("payment_voided") == 1 and released == (step != "authorize")
        assert kinds[-1] == "status:CANCELLED"


async def test_cancel_after_the_parcel_left_is_refused(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1500)], paid=True))
        await engine.wait_for_status(order_id, "SHIPPED")
        refusal = await request_cancel(temporal_client, db.session_factory, order_id, CancelRequest("too late"))
        assert refusal is not None and "return" in refusal
        with db.session() as session:
            record = order_store.get_order(session, order_id)
            assert record.cancel_requested_at is None and record.status in ("SHIPPED", "COMPLETED")
