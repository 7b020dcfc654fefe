"""Taking an order: kept in the intake (with its payload's audit row) without the engine, started
after the answer or by the sweeper, a repeat found in the database first; cancels claimed before
they are signalled, the engine reached before a cancel is decided."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from config import load_settings
from domain.order import FULFILLED_AT_COUNTER
from domain.status import OrderStatus
from persistence.models import Location
from services.errors import Unprocessable
from services.gateway import EngineUnavailable, WorkflowNotFound
from services.intake import Intake, Taken
from services.intake_input import from_json
from services.intake_sweeper import IntakeSweeper
from services.payload_audit import KeptPayload, PayloadAudit
from tests.factories import make_order
from tests.fakes import FakeUnits, FakeWorkflows, order_record

SETTINGS = load_settings(task_queue="orders-under-test")


def _intake(units: FakeUnits, workflows: FakeWorkflows) -> Intake:
    return Intake(SETTINGS, units, workflows)


async def test_a_new_order_is_kept_in_the_intake_and_started_after_the_answer(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    intake = _intake(units, workflows)
    taken = await intake.take(order)
    assert (taken.order_id, taken.repeated, taken.outcome) == (order.order_id, False, "taken")
    assert taken.to_start is not None and taken.to_start.order == order
    assert workflows.started == [] and units.commits == 1  # the answer needs no engine
    kept = units.store.intake.waiting(order.order_id)
    assert kept is not None and kept.started_at is None and from_json(kept.workflow_input) == taken.to_start
    assert await intake.start_taken(taken.to_start)
    [(data, queue, cancel)] = workflows.started
    assert (data.order, queue, cancel) == (order, "orders-under-test", None)
    assert data.return_window_seconds == int(SETTINGS.return_window.total_seconds())
    assert units.store.intake.rows[order.order_id].started_at is not None


async def test_start_soon_returns_at_once_and_its_own_task_starts_the_order(units, workflows):
    intake = _intake(units, workflows)
    taken = await intake.take(make_order([("MUG", 1, 1250)]))
    assert taken.to_start is not None
    intake.start_soon(taken.to_start)
    assert workflows.started == []  # nothing awaited: the request that took it ends now
    for _ in range(50):
        await asyncio.sleep(0)
        if units.store.intake.rows[taken.order_id].started_at is not None:
            break
    assert [data.order.order_id for data, _, _ in workflows.started] == [taken.order_id]
    assert units.store.intake.rows[taken.order_id].started_at is not None


async def test_starts_that_finish_together_are_marked_in_one_write(units, workflows):
    intake = _intake(units, workflows)
    taken = [await intake.take(make_order([("MUG", 1, 1250)])) for _ in range(5)]
    before = units.commits
    assert all(await asyncio.gather(*(intake.start_taken(t.to_start) for t in taken if t.to_start)))
    assert units.commits - before == 2  # the first alone; the four that finished meanwhile together
    assert all(row.started_at is not None for row in units.store.intake.rows.values())


async def test_an_order_we_have_recorded_is_a_duplicate_and_keeps_nothing(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    units.store.orders.add(order_record(order.order_id, OrderStatus.COMPLETED))
    taken = await _intake(units, workflows).take(order)
    assert taken == Taken(order.order_id, True, "duplicate")
    assert workflows.started == [] and units.store.intake.rows == {}


async def test_a_repeat_of_an_order_in_the_intake_is_a_duplicate(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    intake = _intake(units, workflows)
    first = await intake.take(order)
    assert await intake.take(order) == Taken(order.order_id, True, "duplicate")
    assert first.to_start is not None and await intake.start_taken(first.to_start)
    assert await intake.take(order) == Taken(order.order_id, True, "duplicate")  # and after its start
    assert len(workflows.started) == 1


async def test_an_order_is_taken_while_the_engine_is_away_and_left_to_the_sweeper(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    workflows.reachable = False
    intake = _intake(units, workflows)
    taken = await intake.take(order)
    assert taken.to_start is not None and not taken.repeated
    assert not await intake.start_taken(taken.to_start)  # logged, never raised
    assert units.store.intake.backlog() == (1, taken.to_start.received_at)


async def test_the_payload_audit_row_is_kept_in_the_same_transaction(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="shopify")
    intake = Intake(SETTINGS, units, workflows, audit=PayloadAudit(SETTINGS, units))
    kept = KeptPayload("shopify", "orders/create", b'{"id": 1}', order_id=order.order_id)
    await intake.take(order, kept=kept)
    again = KeptPayload("shopify", "orders/create", b'{"id": 1}', order_id=order.order_id)
    await intake.take(order, kept=again)
    assert kept.kept and again.kept and units.commits == 2
    assert [(m.order_id, m.outcome) for m in units.store.messages.kept] == [
        (order.order_id, "taken"),
        (order.order_id, "duplicate"),
    ]


async def test_a_cancel_is_not_decided_while_the_engine_is_away(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    units.store.orders.add(order_record(order.order_id))
    workflows.reachable = False
    with pytest.raises(EngineUnavailable):
        await _intake(units, workflows).take(order, cancel_reason="cancelled on shopify")
    assert units.opened == []  # the channel delivers the cancel again later


async def test_a_cancel_of_an_order_still_in_the_intake_starts_it_as_taken_with_the_cancel(units, workflows):
    order = make_order([("MUG", 1, 1250)], channel="woocommerce")
    intake = _intake(units, workflows)
    workflows.reachable = False
    taken = await intake.take(order)
    workflows.reachable = True
    cancelled = await intake.take(replace(order, reference="as cancelled"), cancel_reason="cancelled on woocommerce")
    assert cancelled == Taken(order.order_id, False, "cancelled")
    [(data, _, cancel)] = workflows.started
    assert data == taken.to_start and cancel is not None and cancel.reason == "cancelled on woocommerce"
    assert units.store.intake.rows[order.order_id].started_at is not None  # the sweeper leaves it


async def test_the_sweeper_starts_what_was_not_started_once_its_grace_is_over(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    taken = await _intake(units, workflows).take(order)  # and the process stopped before its start
    assert taken.to_start is not None
    sweeper = IntakeSweeper(SETTINGS, units, workflows)
    received = taken.to_start.received_at
    assert await sweeper.sweep(received + timedelta(seconds=1)) == 0  # the request's own start comes first
    later = received + SETTINGS.intake_retry_first
    assert await sweeper.sweep(later) == 1
    assert await sweeper.sweep(later + timedelta(minutes=5)) == 0
    assert [data for data, _, _ in workflows.started] == [taken.to_start]


async def test_the_sweeper_puts_off_starts_the_engine_refuses_doubling_the_wait(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    taken = await _intake(units, workflows).take(order)
    assert taken.to_start is not None
    sweeper = IntakeSweeper(SETTINGS, units, workflows)
    workflows.reachable = False
    at = taken.to_start.received_at + SETTINGS.intake_retry_first
    assert await sweeper.sweep(at) == 0
    assert units.store.intake.due[order.order_id] == at + SETTINGS.intake_retry_first
    assert sweeper.retry_delay(2) == 2 * SETTINGS.intake_retry_first
    assert sweeper.retry_delay(40) == timedelta(minutes=1)
    workflows.reachable = True
    assert await sweeper.sweep(at + timedelta(seconds=1)) == 0  # not yet
    assert await sweeper.sweep(at + SETTINGS.intake_retry_first) == 1


async def test_the_sweeper_forgets_started_rows_after_the_retention(units, workflows):
    order = make_order([("MUG", 1, 1250)])
    intake = _intake(units, workflows)
    taken = await intake.take(order)
    assert taken.to_start is not None and await intake.start_taken(taken.to_start)
    sweeper = IntakeSweeper(SETTINGS, units, workflows)
    assert await sweeper.forget() == 0
    assert await IntakeSweeper(SETTINGS, units, workflows).forget(datetime.now(UTC) + timedelta(days=8)) == 1


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
    assert units.store.intake.rows == {}
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
    assert (await _intake(units, workflows).take_canonical(counter_sale)).outcome == "taken"
