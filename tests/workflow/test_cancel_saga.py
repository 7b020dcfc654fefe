"""Cancel at every step: before the first parcel leaves, the saga undoes exactly what was done, once;
once a parcel is leaving, cancel is refused and the order ships."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from api.services.intake import start_order
from domain.status import OrderStatus
from persistence import orders as order_store
from persistence.models import PaymentRecord, StockMovement
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.gates import Gate, GatedGateway, GatedWarehouse
from workflows.order import OrderWorkflow
from workflows.payloads import CancelRequest


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
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer asked"))
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer asked again"))
        gate.open.set()

        def moves() -> list[tuple[str, int, int]]:
            with db.session() as session:
                rows = session.scalars(select(StockMovement).where(StockMovement.order_id == order_id))
                return [(m.kind, m.on_hand_delta, m.reserved_delta) for m in rows]

        if step == "ship":  # the parcel was leaving: cancel refused, the order ships
            await engine.wait_for_status(order_id, "SHIPPED")
            assert moves() == [("reservation", 0, 2), ("shipment", -2, -2)]
            await handle.terminate("test done")
            return
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        assert moves() == ([] if step == "authorize" else [("reservation", 0, 2), ("release", 0, -2)])
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.status, payment.voided_minor, payment.captured_minor) == ("VOIDED", 3495, 0)
            kinds = [e.kind for e in order_store.order_events(session, order_id)]
        assert kinds.count("payment_voided") == 1 and kinds.count("stock_released") == (step != "authorize")
        assert kinds[-1] == "status:CANCELLED"
