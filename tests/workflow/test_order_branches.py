"""OrderWorkflow's branches in seconds: the real workflows on the session's Temporal dev server with
scripted activities under the real names (tests/workflow/scripted.py). The real-database tests
beside these prove the activities; these prove the orchestration: which steps run, in which order,
under which keys, for each outcome an activity can have."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.inventory import ReserveStockResult
from contracts.order_records import ValidateOrderResult
from contracts.order_workflow import CancelRequest, OrderState, ReleaseRequest, StockAvailable
from contracts.payments import PaymentResult
from contracts.returns import ReturnRequest, ReturnRequestLine
from contracts.shipments import ShipmentStepDone
from domain.cancellation import BY_DEADLINE, BY_PAYMENT, BY_SOURCING
from domain.fulfilment import ShipmentStatus
from domain.payments import PaymentStatus
from domain.status import OrderStatus
from tests.factories import make_order
from tests.workflow.scripted import Scripted, reserved_at, scripted_order
from workflows.order import OrderWorkflow


async def until(handle: WorkflowHandle[Any, Any], status: OrderStatus, timeout: float = 15) -> OrderState:
    """The order's live state once it shows `status`."""
    deadline = time.monotonic() + timeout
    while True:
        state: OrderState = await handle.query(OrderWorkflow.state)
        if state.status is status:
            return state
        assert time.monotonic() < deadline, f"{handle.id} stayed {state.status}, expected {status}"
        await asyncio.sleep(0.05)


def refused(kind: ErrorType, message: str = "refused") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


async def test_a_paid_order_runs_record_validate_reserve_ship_and_completes(temporal_client):
    scripted = Scripted()
    order = make_order([("A", 2, 1000)])
    async with scripted_order(temporal_client, scripted, order) as handle:
        assert (await handle.result()).status is OrderStatus.COMPLETED
    assert [name for name, _ in scripted.calls] == [
        "record_order",
        "validate_order",
        "reserve_stock",
        "perform_steps_automatically",
        "change_status",
        "change_status",
    ]
    assert scripted.statuses() == ["SHIPPED", "COMPLETED"]
    assert scripted.asked("authorize_payment") == []  # the channel collected the money


async def test_a_declined_card_cancels_with_nothing_reserved(temporal_client):
    scripted = Scripted().answer("authorize_payment", refused(ErrorType.PAYMENT_DECLINED, "insufficient funds"))
    order = make_order([("A", 1, 1000)], paid=False, payment_method="pm_card_chargeDeclined")
    async with scripted_order(temporal_client, scripted, order) as handle:
        assert (await handle.result()).status is OrderStatus.CANCELLED
        assert (await handle.query(OrderWorkflow.state)).payment_status is PaymentStatus.DECLINED
    assert scripted.asked("reserve_stock") == [] and scripted.asked("void_payment") == []
    [cancelled] = scripted.asked("change_status")
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel.requested_by == BY_PAYMENT
    assert cancelled.detail == "payment declined: insufficient funds"


async def test_a_lost_race_for_stock_plans_again_under_a_new_key(temporal_client):
    conflict = ReserveStockResult(ReserveStockResult.CONFLICT, "another order took the last units")
    scripted = Scripted().answer("reserve_stock", conflict, conflict)
    order = make_order([("A", 1, 1000)])
    async with scripted_order(temporal_client, scripted, order) as handle:
        await until(handle, OrderStatus.SHIPPED)
    assert [data.idempotency_key for data in scripted.asked("reserve_stock")] == [
        f"{order.order_id}:reserve:{n}" for n in (1, 2, 3)
    ]
    assert "BACKORDERED" not in scripted.statuses()  # re-planned at once, never waiting


async def test_races_lost_again_and_again_wait_as_a_backorder(temporal_client):
    conflict = ReserveStockResult(ReserveStockResult.CONFLICT, "hot SKU")
    scripted = Scripted().answer("reserve_stock", *[conflict] * 6)
    async with scripted_order(temporal_client, scripted, make_order([("A", 1, 1000)])) as handle:
        state = await until(handle, OrderStatus.BACKORDERED)
        assert state.hold_reason == "hot SKU"
        assert len(scripted.asked("reserve_stock")) == 6  # the first try and five re-plans
        assert scripted.statuses() == ["BACKORDERED"]


async def test_a_backorder_sleeps_until_stock_of_a_sku_it_needs_arrives(temporal_client):
    nothing = ReserveStockResult(ReserveStockResult.INSUFFICIENT, "no A anywhere", unfilled={"A": 2})
    scripted = Scripted().answer("reserve_stock", nothing)
    async with scripted_order(temporal_client, scripted, make_order([("A", 2, 1000)])) as handle:
        await until(handle, OrderStatus.BACKORDERED)
        await handle.signal(OrderWorkflow.stock_available, StockAvailable("B"))  # not what it waits for
        await asyncio.sleep(0.5)
        assert len(scripted.asked("reserve_stock")) == 1
        await handle.signal(OrderWorkflow.stock_available, StockAvailable("A"))
        await until(handle, OrderStatus.SHIPPED)
    assert [data.demand for data in scripted.asked("reserve_stock")] == [{"A": 2}, {"A": 2}]


async def test_a_backorder_past_its_deadline_is_cancelled_and_its_authorization_voided(temporal_client):
    nothing = ReserveStockResult(ReserveStockResult.INSUFFICIENT, "no A anywhere", unfilled={"A": 1})
    scripted = Scripted().answer("reserve_stock", nothing)
    order = make_order([("A", 1, 1000)], paid=False, payment_method="pm_card_visa")
    async with scripted_order(temporal_client, scripted, order, backorder_deadline_seconds=1) as handle:
        assert (await handle.result()).status is OrderStatus.CANCELLED
    [void] = scripted.asked("void_payment")
    assert void.amount == order.total
    assert scripted.asked("change_status")[-1].cancel.requested_by == BY_DEADLINE


async def test_a_channels_routing_may_cancel_what_it_cannot_source(temporal_client):
    scripted = Scripted().answer("reserve_stock", ReserveStockResult(ReserveStockResult.CANCEL, "no location in NL"))
    async with scripted_order(temporal_client, scripted, make_order([("A", 1, 1000)])) as handle:
        assert (await handle.result()).status is OrderStatus.CANCELLED
    [cancelled] = scripted.asked("change_status")
    assert (cancelled.cancel.requested_by, cancelled.detail) == (BY_SOURCING, "routing: no location in NL")


async def test_a_held_order_waits_for_a_release_and_validates_again(temporal_client):
    held = ValidateOrderResult(hold_reasons=["unknown SKU GHOST-1"])
    scripted = Scripted().answer("validate_order", held)
    async with scripted_order(temporal_client, scripted, make_order([("GHOST-1", 1, 1000)])) as handle:
        state = await until(handle, OrderStatus.ON_HOLD)
        assert state.hold_reason == "unknown SKU GHOST-1" and scripted.asked("reserve_stock") == []
        await handle.signal(OrderWorkflow.release, ReleaseRequest(note="SKU added"))
        await until(handle, OrderStatus.SHIPPED)
    assert [data.attempt for data in scripted.asked("validate_order")] == [1, 2]
    assert scripted.statuses()[0] == "RECEIVED"  # released: on its way again


async def test_a_step_the_database_refuses_holds_the_order_and_a_release_runs_it_again(temporal_client):
    column = refused(ErrorType.STORAGE_REFUSED, "shipments.location_id: at most 100 characters")
    scripted = Scripted().answer("reserve_stock", column)
    order = make_order([("A", 1, 1000)])
    async with scripted_order(temporal_client, scripted, order) as handle:
        state = await until(handle, OrderStatus.ON_HOLD)
        assert state.hold_reason == (
            "shipments.location_id: at most 100 characters (fix it and release to try again, or cancel)"
        )
        await handle.signal(OrderWorkflow.release, ReleaseRequest(note="fixed"))
        await until(handle, OrderStatus.SHIPPED)
    # The same step again, under the same key: whatever the refused attempt did is not done twice.
    assert [data.idempotency_key for data in scripted.asked("reserve_stock")] == [f"{order.order_id}:reserve:1"] * 2
    assert scripted.statuses()[:2] == ["ON_HOLD", "RECEIVED"]


async def test_a_cancel_during_fulfilment_withdraws_the_shipment_and_voids_once(temporal_client):
    scripted = Scripted()
    order = make_order([("A", 2, 1500)], paid=False, payment_method="pm_card_visa")
    async with scripted_order(temporal_client, scripted, order, auto_confirm=False) as handle:
        await until(handle, OrderStatus.IN_FULFILMENT)  # the shipment waits for staff to pick
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="fraud check failed"))
        assert (await handle.result()).status is OrderStatus.CANCELLED
        state = await handle.query(OrderWorkflow.state)
    [closed] = scripted.asked("close_shipment")
    assert (closed.status, closed.lines) == (ShipmentStatus.WITHDRAWN, {"A": 2})
    assert [shipment.status for shipment in state.shipments] == [ShipmentStatus.WITHDRAWN]
    assert scripted.asked("release_stock") == []  # the shipment released its own stock
    [void] = scripted.asked("void_payment")
    assert void.amount == order.total and scripted.asked("capture_payment") == []
    assert scripted.statuses() == ["CANCELLED"] and scripted.asked("change_status")[0].detail == "fraud check failed"


async def test_a_split_order_captures_each_parcel_as_it_leaves_and_they_add_up(temporal_client):
    scripted = Scripted().answer("reserve_stock", reserved_at(("AMS", {"A": 2}), ("UTR", {"B": 1})))
    order = make_order([("A", 2, 1000), ("B", 1, 3000)], paid=False, payment_method="pm_card_visa")
    async with scripted_order(temporal_client, scripted, order) as handle:
        state = await until(handle, OrderStatus.SHIPPED)
    captures = scripted.asked("capture_payment")
    assert [capture.final for capture in captures] == [False, True]
    assert sum(capture.amount.amount_minor for capture in captures) == order.total.amount_minor
    assert scripted.asked("void_payment") == [] and state.payment_status is PaymentStatus.CAPTURED


async def test_without_multicapture_a_split_order_is_captured_once_when_the_last_parcel_left(temporal_client):
    one_capture = lambda d: PaymentResult(f"payment-{d.order_id}", PaymentStatus.AUTHORIZED, d.amount)  # noqa: E731
    scripted = (
        Scripted()
        .answer("authorize_payment", one_capture)
        .answer("reserve_stock", reserved_at(("AMS", {"A": 2}), ("UTR", {"B": 1})))
    )
    order = make_order([("A", 2, 1000), ("B", 1, 3000)], paid=False, payment_method="pm_card_visa")
    async with scripted_order(temporal_client, scripted, order) as handle:
        await until(handle, OrderStatus.SHIPPED)
    [capture] = scripted.asked("capture_payment")
    assert (capture.amount, capture.final) == (order.total, True)


async def test_a_short_pick_is_sourced_again_in_a_new_round(temporal_client):
    short = ShipmentStepDone(ShipmentStatus.SHIPPED, {"A": 1}, short={"A": 2}, carrier="SBX", tracking_number="T1")
    scripted = Scripted().answer("perform_steps_automatically", short)
    order = make_order([("A", 3, 1000)])
    async with scripted_order(temporal_client, scripted, order) as handle:
        state = await until(handle, OrderStatus.SHIPPED)
    assert [(data.round, data.demand) for data in scripted.asked("reserve_stock")] == [(1, {"A": 3}), (2, {"A": 2})]
    assert [shipment.shipment_id for shipment in state.shipments] == [
        f"shipment-{order.order_id}-AMS",
        f"shipment-{order.order_id}-AMS-2",
    ]


async def test_a_return_is_refused_before_anything_reaches_history_until_the_order_shipped(temporal_client):
    scripted = Scripted().answer("validate_order", ValidateOrderResult(hold_reasons=["unknown SKU"]))
    async with scripted_order(temporal_client, scripted, make_order([("A", 1, 1000)])) as handle:
        await until(handle, OrderStatus.ON_HOLD)
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await handle.execute_update(OrderWorkflow.request_return, ReturnRequest([ReturnRequestLine("A", 1)]))
        cause = refusal.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ErrorType.RETURN_REFUSED
        assert cause.details[0] == "not_shipped"
    assert scripted.asked("accept_return") == []
