"""Taking an order: started once, a repeat found in the database first, cancels claimed before they
are signalled, the engine reached before anything is decided."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config import load_settings
from domain.order import FULFILLED_AT_COUNTER
from domain.status import OrderStatus
from persistence.models import Location
from services.errors import Unprocessable
from services.gateway import EngineUnavailable, WorkflowNotFound
from services.intake import Intake, Taken
from tests.factories import make_order
from tests.fakes import FakeUnits, FakeWorkflows, order_record

SETTINGS = load_settings(task_queue="orders-under-test")


def _intake(units: FakeUnits, workflows: FakeWorkflows) -> Intake:
    return Intake(SETTINGS, units, workflows)


async def test_a_new_order_starts_its_workflow_on_the_orders_queue(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    taken = await _intake(units, workflows).take(order)
    assert taken == Taken(order.order_id, False, "started")
    [(data, queue, cancel)] = workflows.started
    assert (data.order, queue, cancel) == (order, "orders-under-test", None)
    assert data.return_window_seconds == int(SETTINGS.return_window.total_seconds())


async def test_an_order_we_have_recorded_is_a_duplicate_and_starts_nothing(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    units.store.orders.add(order_record(order.order_id, OrderStatus.COMPLETED))
    taken = await _intake(units, workflows).take(order)
    assert taken == Taken(order.order_id, True, "duplicate")
    assert workflows.started == []
    assert all(uow.read_only for uow in units.opened)  # a look-up takes no write lock


async def test_a_run_the_engine_already_has_is_a_duplicate(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    workflows.running.add(order.order_id)  # started a moment ago, not recorded yet
    assert await _intake(units, workflows).take(order) == Taken(order.order_id, True, "duplicate")


async def test_nothing_is_decided_while_the_engine_is_away(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    units.store.orders.add(order_record(order.order_id))
    workflows.reachable = False
    with pytest.raises(EngineUnavailable):
        await _intake(units, workflows).take(order)
    assert units.opened == []  # a duplicate is 503 too: the channel delivers again later


async def test_a_cancel_of_an_order_we_have_is_claimed_then_signalled(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="shopify")
    units.store.orders.add(order_record(order.order_id))
    taken = await _intake(units, workflows).take(order, cancel_reason="cancelled on shopify", confirm_lines=["7"])
    assert taken == Taken(order.order_id, False, "cancelled")
    assert order.order_id in units.store.orders.cancel_claims and units.commits == 1
    [(kind, order_id, request)] = workflows.signals
    assert (kind, order_id, request.requested_by, request.confirm_lines) == ("cancel", order.order_id, "shopify", ["7"])
    assert workflows.started == []


async def test_a_cancel_whose_workflow_has_ended_is_too_late_and_the_claim_is_forgotten(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="shopify")
    units.store.orders.add(order_record(order.order_id))
    workflows.failures["cancel_order"] = [WorkflowNotFound("workflow not found")]
    taken = await _intake(units, workflows).take(order, cancel_reason="cancelled on shopify")
    assert taken == Taken(order.order_id, True, "cancel too late: shipped or ended")
    assert units.store.orders.cancel_claims == set()  # shipments of it may leave again


async def test_a_cancel_after_goods_left_is_too_late_and_never_signalled(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="shopify")
    units.store.orders.add(order_record(order.order_id))
    units.store.orders.claim_refusals[order.order_id] = "a shipment of this order has left"
    taken = await _intake(units, workflows).take(order, cancel_reason="cancelled on shopify")
    assert taken.repeated and workflows.signals == []


async def test_a_cancel_that_overtakes_its_order_starts_it_cancelled(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="woocommerce")
    taken = await _intake(units, workflows).take(order, cancel_reason="cancelled on woocommerce")
    assert taken == Taken(order.order_id, False, "cancelled")
    [(data, _, cancel)] = workflows.started
    assert data.order == order and cancel is not None and cancel.reason == "cancelled on woocommerce"


async def test_a_counter_sale_at_a_warehouse_is_refused_before_anything_starts(units, workflows):
    units.store.locations.saved["WH"] = Location(location_id="WH", name="WH", kind="warehouse", country="NL")
    order = make_order([("MUG", 1, 1250)], channel="pos", pickup_location_id="WH")
    counter_sale = replace(order, fulfilled_by=FULFILLED_AT_COUNTER)
    with pytest.raises(Unprocessable) as refused:
        await _intake(units, workflows).take_canonical(counter_sale)
    assert refused.value.message.startswith("pickup_location_id: ") and "WH" in refused.value.message
    assert workflows.started == []


async def test_a_counter_sale_at_a_store_we_do_not_know_yet_is_taken(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="pos", pickup_location_id="NEW-STORE")
    counter_sale = replace(order, fulfilled_by=FULFILLED_AT_COUNTER)
    assert (await _intake(units, workflows).take_canonical(counter_sale)).outcome == "started"
