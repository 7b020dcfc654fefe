"""Shipments as their own workflows, confirmed by staff: refusals before history, short picks
re-sourced, late steps escalated, click & collect expiry, location task queues, a worker restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from contracts.errors import ErrorType
from contracts.shipments import ShipmentProgress, ShipmentWorkflowInput, StepConfirmation
from domain.status import OrderStatus
from persistence.models import Escalation, PaymentRecord, ShipmentRecord, StockLevel, StockMovement
from persistence.read_model import orders as order_store
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from tests.workflow.histories import record_history
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow


async def _shipment(client: Client, shipment_id: str, timeout: float = 20) -> ShipmentProgress:
    """Wait until the shipment's workflow runs and answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await client.get_workflow_handle(shipment_id).query(ShipmentWorkflow.progress)
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def _confirm(client: Client, shipment_id: str, step: str, location: str, **fields) -> ShipmentProgress:
    return await client.get_workflow_handle(shipment_id).execute_update(
        ShipmentWorkflow.confirm_step, StepConfirmation(step, location, **fields)
    )


async def _refusal(client: Client, shipment_id: str, step: str, location: str, **fields) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _confirm(client, shipment_id, step, location, **fields)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == ErrorType.CONFIRMATION_REFUSED
    return str(cause.details[0])


async def _accepted_updates(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


async def test_staff_confirm_each_step_and_wrong_confirmations_never_reach_history(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        add_location(db.session_factory, "UTR", latitude=52.09, longitude=5.12)
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 2, 1500)]))
        shipment_id = f"shipment-{order_id}-AMS"
        assert (await _shipment(temporal_client, shipment_id)).next_step == "pick"

        assert await _refusal(temporal_client, shipment_id, "pack", "AMS") == "out_of_order"
        assert await _refusal(temporal_client, shipment_id, "pick", "UTR") == "wrong_location"
        assert await _refusal(temporal_client, shipment_id, "pick", "AMS", quantities={"A": 3}) == "invalid"
        assert await _refusal(temporal_client, shipment_id, "pick", "AMS", quantities={"Z": 1}) == "invalid"
        assert await _accepted_updates(temporal_client, shipment_id) == 0  # refused before history

        picked = await _confirm(temporal_client, shipment_id, "pick", "AMS", confirmed_by="anna")
        assert (picked.status, picked.next_step) == ("PICKED", "pack")
        assert await _refusal(temporal_client, shipment_id, "pick", "AMS") == "out_of_order"  # already done
        await _confirm(temporal_client, shipment_id, "pack", "AMS", parcels=2)
        assert await _refusal(temporal_client, shipment_id, "ship", "AMS", carrier="PostNL") == "invalid"
        shipped = await _confirm(
            temporal_client, shipment_id, "ship", "AMS", carrier="PostNL", tracking_number="3SABCD1234567"
        )
        assert (shipped.status, shipped.tracking_number) == ("SHIPPED", "3SABCD1234567")
        await engine.wait_for_status(order_id, "SHIPPED")
        assert await _accepted_updates(temporal_client, shipment_id) == 3

        with db.session() as session:
            record = session.get(ShipmentRecord, shipment_id)
            assert (record.status, record.parcels, record.carrier) == ("SHIPPED", 2, "PostNL")
            assert record.picked_at <= record.packed_at <= record.shipped_at
            assert record.confirmed_by["pick"] == "anna"
            level = session.get(StockLevel, ("AMS", "A"))
            assert (level.on_hand, level.reserved) == (3, 0)


async def test_a_short_pick_is_written_off_and_sourced_elsewhere(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS", latitude=52.37, longitude=4.90)
        add_location(db.session_factory, "GRO", latitude=53.22, longitude=6.57)
        stock(db.session_factory, "AMS", {"A": 3})
        stock(db.session_factory, "GRO", {"A": 5})
        order = make_order([("A", 3, 1000)])  # ships to Amsterdam: AMS is nearest
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        first = f"shipment-{order_id}-AMS"
        await _shipment(temporal_client, first)
        picked = await _confirm(temporal_client, first, "pick", "AMS", quantities={"A": 1})
        assert picked.lines == {"A": 1}
        await _confirm(temporal_client, first, "pack", "AMS")
        await _confirm(temporal_client, first, "ship", "AMS", carrier="DHL", tracking_number="JD0001")

        second = f"shipment-{order_id}-GRO-2"  # the missing two, sourced again
        assert (await _shipment(temporal_client, second)).lines == {"A": 2}
        await _confirm(temporal_client, second, "pick", "GRO")
        await _confirm(temporal_client, second, "pack", "GRO")
        await _confirm(temporal_client, second, "ship", "GRO", carrier="DHL", tracking_number="JD0002")
        await engine.wait_for_status(order_id, "SHIPPED")

        with db.session() as session:
            moves = session.scalars(select(StockMovement).where(StockMovement.location_id == "AMS"))
            ams = [(m.kind, m.on_hand_delta, m.reserved_delta) for m in moves if m.order_id == order_id]
            assert ams == [("reservation", 0, 3), ("short_pick", -2, -2), ("shipment", -1, -1)]
            assert (session.get(StockLevel, ("AMS", "A")).on_hand, session.get(StockLevel, ("GRO", "A")).on_hand) == (
                0,
                3,
            )
            assert session.get(ShipmentRecord, first).short_lines == {"A": 2}
            kinds = [e.kind for e in order_store.order_events(session, order_id)]
            assert kinds.count("short_pick") == 1


async def test_a_late_step_raises_one_escalation_without_failing_the_order(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(
        temporal_client, db, sla_overrides={"warehouse": {"pick": 1}}, auto_confirm=False
    ) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1500)]))
        shipment_id = f"shipment-{order_id}-AMS"
        deadline = time.monotonic() + 20
        while (await _shipment(temporal_client, shipment_id)).escalated != ["pick"]:
            assert time.monotonic() < deadline, "no escalation"
            await asyncio.sleep(0.2)
        with db.session() as session:
            [row] = session.scalars(select(Escalation).where(Escalation.order_id == order_id))
            assert (row.step, row.location_id, row.resolved_at) == ("pick", "AMS", None)
        await _confirm(temporal_client, shipment_id, "pick", "AMS")
        await _confirm(temporal_client, shipment_id, "pack", "AMS")
        await _confirm(temporal_client, shipment_id, "ship", "AMS", carrier="UPS", tracking_number="1Z999")
        await engine.wait_for_status(order_id, "SHIPPED")
        with db.session() as session:
            [row] = session.scalars(select(Escalation).where(Escalation.order_id == order_id))
            assert row.resolved_at is not None
            assert [e.kind for e in order_store.order_events(session, order_id)].count("escalation") == 1


async def test_click_and_collect_confirmed_by_store_staff(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, auto_confirm=False) as engine:
        add_location(db.session_factory, "STORE1", kind="store")
        stock(db.session_factory, "STORE1", {"A": 3})
        order = make_order([("A", 2, 1250)], paid=False, payment_method="pm_card_visa", pickup_location_id="STORE1")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        shipment_id = f"shipment-{order_id}-STORE1"
        assert (await _shipment(temporal_client, shipment_id)).kind == "collect"
        assert await _refusal(temporal_client, shipment_id, "collect", "STORE1") == "out_of_order"
        await _confirm(temporal_client, shipment_id, "pick", "STORE1", confirmed_by="lotte")
        await _confirm(temporal_client, shipment_id, "ready", "STORE1")
        collected = await _confirm(temporal_client, shipment_id, "collect", "STORE1")
        assert (collected.status, collected.next_step) == ("COLLECTED", None)
        state = await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
        assert state.status is OrderStatus.SHIPPED and [s.status for s in state.shipments] == ["COLLECTED"]
        with db.session() as session:
            level = session.get(StockLevel, ("STORE1", "A"))
            assert (level.on_hand, level.reserved) == (1, 0)
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.status, payment.captured_minor) == ("CAPTURED", order.total.amount_minor)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        await handle.terminate("test done")
        await record_history(handle, "click_and_collect")
        await record_history(temporal_client.get_workflow_handle(shipment_id), "click_and_collect_shipment")


async def test_click_and_collect_not_collected_in_time_releases_stock_and_voids(temporal_client, sqlite_database):
    db = sqlite_database
    async with running_engine(temporal_client, db, pickup_expiry=timedelta(seconds=2), auto_confirm=False) as engine:
        add_location(db.session_factory, "STORE1", kind="store")
        stock(db.session_factory, "STORE1", {"A": 2})
        order = make_order([("A", 1, 2500)], paid=False, payment_method="pm_card_visa", pickup_location_id="STORE1")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        shipment_id = f"shipment-{order_id}-STORE1"
        assert (await _shipment(temporal_client, shipment_id)).kind == "collect"
        await _confirm(temporal_client, shipment_id, "pick", "STORE1")
        ready = await _confirm(temporal_client, shipment_id, "ready", "STORE1")
        assert (ready.status, ready.next_step) == ("READY_FOR_PICKUP", "collect")
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        with db.session() as session:
            level = session.get(StockLevel, ("STORE1", "A"))
            assert (level.on_hand, level.reserved) == (2, 0)
            assert session.get(ShipmentRecord, shipment_id).status == "EXPIRED"
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.captured_minor, payment.voided_minor) == (0, payment.authorized_minor)


async def test_shipments_run_on_their_location_task_queue(temporal_client, sqlite_database):
    db = sqlite_database
    queue = f"location-ams-{uuid.uuid4()}"
    async with running_engine(temporal_client, db, location_task_queues=queue) as engine:
        add_location(db.session_factory, "AMS", task_queue=queue)
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 1, 1500)]))
        await engine.wait_for_status(order_id, "SHIPPED")
        described = await temporal_client.get_workflow_handle(f"shipment-{order_id}-AMS").describe()
        assert described.task_queue == queue


async def test_a_worker_restarted_mid_shipment_carries_on(temporal_client, sqlite_database):
    db = sqlite_database
    queue = f"test-restart-{uuid.uuid4()}"
    async with running_engine(temporal_client, db, task_queue=queue, auto_confirm=False) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 5})
        order_id, _ = await start_order(temporal_client, engine.settings, make_order([("A", 2, 1500)]))
        shipment_id = f"shipment-{order_id}-AMS"
        await _shipment(temporal_client, shipment_id)
        await _confirm(temporal_client, shipment_id, "pick", "AMS")
    # No worker now: the shipment waits durably. A new worker process picks it up where it was.
    async with running_engine(temporal_client, db, task_queue=queue, auto_confirm=False) as engine:
        assert (await _shipment(temporal_client, shipment_id)).next_step == "pack"
        await _confirm(temporal_client, shipment_id, "pack", "AMS")
        await _confirm(temporal_client, shipment_id, "ship", "AMS", carrier="DPD", tracking_number="0123456789")
        await engine.wait_for_status(order_id, "SHIPPED")
        with db.session() as session:
            kinds = [m.kind for m in session.scalars(select(StockMovement).where(StockMovement.order_id == order_id))]
            assert kinds == ["reservation", "shipment"]


async def test_a_confirmation_in_the_shipment_workflows_first_task_is_judged_like_any_other(temporal_client):
    """Staff may confirm as soon as the read model shows the shipment, which can be before its
    workflow has run a single task: the update and the start then arrive together. It is refused
    for what it is (collect before pick: out of order), not failed because the input was not yet read."""
    task_queue = f"shipments-first-task-{uuid.uuid4()}"
    shipment_id = f"shipment-order-webshop-{uuid.uuid4().hex[:8]}-UTR"
    handle = await temporal_client.start_workflow(
        ShipmentWorkflow.run,
        ShipmentWorkflowInput(
            "order-webshop-x",
            shipment_id,
            "UTR",
            "store",
            {"MUG": 1},
            "collect",
            pickup_location_id="UTR",
            auto_confirm=False,
        ),
        id=shipment_id,
        task_queue=task_queue,
    )
    too_early = asyncio.ensure_future(
        handle.execute_update(ShipmentWorkflow.confirm_step, StepConfirmation("collect", "UTR"))
    )
    await asyncio.sleep(0.5)  # the update waits on the server beside the start: no worker polls yet
    async with Worker(temporal_client, task_queue=task_queue, workflows=[ShipmentWorkflow]):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await asyncio.wait_for(too_early, 20)
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ErrorType.CONFIRMATION_REFUSED
        assert cause.details[0] == "out_of_order"
        progress = await handle.query(ShipmentWorkflow.progress)
        assert (progress.status, progress.next_step) == ("RESERVED", "pick")
        await handle.terminate("test over")
