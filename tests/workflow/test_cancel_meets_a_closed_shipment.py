"""A cancel that reaches the order in the same moment as its shipment's end: the order signals
shipments it still believes open, and one already closed on the server must not take the order
down with it (found: the failed signal failed the whole OrderWorkflow, status stuck, the
authorization never voided)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from contracts.order_workflow import CancelRequest
from domain.status import OrderStatus
from persistence.models import PaymentRecord, StockLevel
from services.cancel import claim_cancel
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.test_shipments import _confirm, _shipment
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow


async def test_a_cancel_arriving_with_the_end_of_a_shipment_cancels_the_order(temporal_client, sqlite_database):
    db = sqlite_database
    orders_queue, location_queue = f"orders-{uuid.uuid4()}", f"location-{uuid.uuid4()}"
    staff: dict[str, Any] = {"auto_confirm": False, "location_task_queues": location_queue}
    async with running_engine(temporal_client, db, task_queue=orders_queue, **staff) as engine:
        add_location(db.session_factory, "AMS", task_queue=location_queue)
        stock(db.session_factory, "AMS", {"A": 5})
        order = make_order([("A", 2, 1500)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        shipment_id = f"shipment-{order_id}-AMS"
        await _shipment(temporal_client, shipment_id)
        await _confirm(temporal_client, shipment_id, "pick", "AMS")
        await _confirm(temporal_client, shipment_id, "pack", "AMS")

    # Only the location works now: the order's worker is busy elsewhere (here: gone). Staff take a
    # cancel as the API does (claimed in the database first), the parcel about to leave sees the
    # claim and its shipment ends; the cancel signal then reaches the order with that ending.
    async with running_engine(temporal_client, db, task_queue=f"idle-{uuid.uuid4()}", **staff):
        assert await asyncio.to_thread(claim_cancel, db.session_factory, order_id) is None
        await _confirm(temporal_client, shipment_id, "ship", "AMS", carrier="DPD", tracking_number="0123456789")
        shipment = temporal_client.get_workflow_handle_for(ShipmentWorkflow.run, shipment_id)
        assert (await asyncio.wait_for(shipment.result(), 30)).status == "WITHDRAWN"
        await temporal_client.get_workflow_handle(order_id).signal(
            OrderWorkflow.cancel, CancelRequest(reason="customer changed their mind", requested_by="support")
        )

    async with running_engine(temporal_client, db, task_queue=orders_queue, **staff):
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.CANCELLED
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            level = session.get(StockLevel, ("AMS", "A"))
        assert (payment.status, payment.captured_minor, payment.voided_minor) == ("VOIDED", 0, order.total.amount_minor)
        assert (level.on_hand, level.reserved) == (5, 0)
