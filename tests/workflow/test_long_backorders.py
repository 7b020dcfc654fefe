"""Long-lived backorders stay small: stock that cannot serve an order does not wake it, and a
backorder whose history grows continues as a new run that keeps answering queries, signals and
updates, with its payment, deadline and step counters carried over."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from contracts.order_workflow import ReleaseRequest
from contracts.returns import ReturnAccepted, ReturnRequest, ReturnRequestLine
from domain.payments import PaymentStatus
from domain.status import OrderStatus
from persistence.models import PaymentRecord, StockOutbox
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow


async def _signals(client, order_id: str, name: str) -> int:
    history = await client.get_workflow_handle(order_id).fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == name
    )


async def _delivered(db, timeout: float = 30) -> None:
    """Wait until the stock feed has delivered every stock change (and so decided whom to wake)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as session:
            if session.scalar(select(StockOutbox.id).where(StockOutbox.delivered_at.is_(None)).limit(1)) is None:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the stock feed did not deliver the stock changes")


async def test_stock_that_cannot_serve_a_backorder_does_not_wake_it(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, stock_feed=True) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 1, "B": 1})
        first = make_order([("A", 3, 1000)])
        second = make_order([("A", 2, 1000)])
        first_id, _ = await start_order(temporal_client, engine.settings, first)
        await engine.wait_for_status(first_id, "BACKORDERED")
        second_id, _ = await start_order(temporal_client, engine.settings, second)
        await engine.wait_for_status(second_id, "BACKORDERED")

        # 2 of A: not enough for the first order (3), enough for the second (2), which ships first.
        stock(db.session_factory, "AMS", {"A": 1, "B": 5})
        await engine.wait_for_status(second_id, "SHIPPED")
        await _delivered(db)
        assert await _signals(temporal_client, first_id, "stock_available") == 0
        assert await _signals(temporal_client, second_id, "stock_available") == 1

        stock(db.session_factory, "AMS", {"A": 2})  # still 2 of A: the first still waits, unwoken
        await _delivered(db)
        assert await _signals(temporal_client, first_id, "stock_available") == 0
        stock(db.session_factory, "AMS", {"A": 1})  # 3: now it is served
        await engine.wait_for_status(first_id, "SHIPPED")
        assert await _signals(temporal_client, first_id, "stock_available") == 1


async def test_a_long_backorder_continues_as_new_and_keeps_answering(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(
        temporal_client, db, order_history_limit=40, return_window=timedelta(minutes=5)
    ) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 1})  # one of the two: the order waits for both
        order = make_order([("A", 2, 1250)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_status(order_id, "BACKORDERED")
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        first_run = (await handle.describe()).run_id

        # People press release while nothing came in: each try costs history, until the run hands over.
        deadline = time.monotonic() + 30
        for _ in range(200):
            if (await handle.describe()).run_id != first_run or time.monotonic() > deadline:
                break
            await handle.signal(OrderWorkflow.release, ReleaseRequest(note="any news?"))
            await asyncio.sleep(0.3)
        assert (await handle.describe()).run_id != first_run, "the order never continued as new"
        old = temporal_client.get_workflow_handle(order_id, run_id=first_run)
        last_event = (await old.fetch_history()).events[-1]
        assert last_event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW

        state = await engine.wait_for_live_status(order_id, OrderStatus.BACKORDERED)  # a query, in the new run
        assert state.status is OrderStatus.BACKORDERED and state.payment_status is PaymentStatus.AUTHORIZED

        stock(db.session_factory, "AMS", {"A": 4})
        await handle.signal(OrderWorkflow.release, ReleaseRequest(note="stock is in"))  # a signal
        await engine.wait_for_status(order_id, "SHIPPED")
        with db.session() as session:
            [payment] = session.scalars(select(PaymentRecord).where(PaymentRecord.order_id == order_id)).all()
        assert (payment.authorized_minor, payment.captured_minor) == (order.total.amount_minor,) * 2

        await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        refund = await handle.execute_update(  # an update
            OrderWorkflow.request_return, ReturnRequest([ReturnRequestLine("A", 1)], reason="too big", received=True)
        )
        assert isinstance(refund, ReturnAccepted) and refund.refund.amount_minor == 1250
        await handle.terminate("test done")
        await record_history(old, "backorder_continued_as_new")
        await record_history(temporal_client.get_workflow_handle(order_id), "backorder_continued_then_returned")
