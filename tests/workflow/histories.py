"""The stored workflow histories: one per journey, recorded from the 1.0 code and replayed against
today's code by test_replay, so a change that would break a running workflow fails the tests.

Each journey is recorded by the real-database test that drives it (`record_history` at its end).
Record a journey that has no stored history yet with `python -m tests.workflow.record_histories`;
`--rebaseline` re-records every one, which is only right together with a new Temporal Worker
Deployment Version (README, "Changing workflow code").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config import load_settings
from integrations.temporal.client import data_converter
from integrations.temporal.sandbox import workflow_runner
from workflows.channel_pull import ChannelPullWorkflow
from workflows.goodwill import GoodwillWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.shipment import ShipmentWorkflow
from workflows.stock_feed import StockFeedWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
WORKFLOWS = [OrderWorkflow, ShipmentWorkflow, ReturnWorkflow, ChannelPullWorkflow, StockFeedWorkflow, GoodwillWorkflow]
"""Every workflow type a stored history may belong to."""


def replayer(*, strict: bool = False) -> Replayer:
    """Reads payloads as the worker does: encrypted ones with the (development) keys, the stored
    histories' plain ones (recorded before encryption) as they are. Runs the workflows in the
    worker's sandbox (integrations.temporal.sandbox), or `strict`: Temporal's default one, where
    every workflow module, the order's phases too, runs under the sandbox's restrictions."""
    runner = SandboxedWorkflowRunner() if strict else workflow_runner()
    return Replayer(workflows=WORKFLOWS, data_converter=data_converter(load_settings()), workflow_runner=runner)


RECORD_ENV = "OMS_RECORD_HISTORIES"

_TESTS = "tests/workflow"
JOURNEYS: dict[str, str] = {
    "paid_order_completed": f"{_TESTS}/test_order_workflow.py::"
    "test_a_paid_order_ships_and_completes_after_the_returns_window[sqlite]",
    "paid_order_shipment": f"{_TESTS}/test_order_workflow.py::"
    "test_a_paid_order_ships_and_completes_after_the_returns_window[sqlite]",
    "unpaid_order_captured": f"{_TESTS}/test_order_workflow.py::"
    "test_an_unpaid_order_is_authorized_then_captured_in_full",
    "held_then_released": f"{_TESTS}/test_order_workflow.py::"
    "test_an_unknown_sku_holds_the_order_until_a_person_fixes_and_releases_it",
    "cancelled_during_fulfilment": f"{_TESTS}/test_order_workflow.py::"
    "test_cancel_during_fulfilment_releases_stock_and_voids_exactly_once",
    "split_over_two_locations": f"{_TESTS}/test_sourcing_and_backorders.py::"
    "test_an_order_no_single_location_can_fill_ships_from_two[capture-per-shipment]",
    "split_captured_at_the_end": f"{_TESTS}/test_sourcing_and_backorders.py::"
    "test_an_order_no_single_location_can_fill_ships_from_two[capture-once]",
    "backorder_partly_shipped_then_restocked": f"{_TESTS}/test_sourcing_and_backorders.py::"
    "test_ship_what_is_there_then_a_restock_wakes_the_backordered_rest",
    "backorder_deadline_cancelled": f"{_TESTS}/test_sourcing_and_backorders.py::"
    "test_a_backorder_past_its_deadline_is_cancelled_and_its_authorization_voided",
    "backorder_continued_as_new": f"{_TESTS}/test_long_backorders.py::"
    "test_a_long_backorder_continues_as_new_and_keeps_answering",
    "backorder_continued_then_returned": f"{_TESTS}/test_long_backorders.py::"
    "test_a_long_backorder_continues_as_new_and_keeps_answering",
    "click_and_collect": f"{_TESTS}/test_shipments.py::test_click_and_collect_confirmed_by_store_staff",
    "click_and_collect_shipment": f"{_TESTS}/test_shipments.py::test_click_and_collect_confirmed_by_store_staff",
    "counter_sale": f"{_TESTS}/test_outside_fulfilment.py::"
    "test_a_counter_sale_takes_the_units_off_the_store_and_ships_nothing[sqlite]",
    "fulfilled_by_channel": f"{_TESTS}/test_outside_fulfilment.py::"
    "test_an_order_the_channel_fulfils_is_recorded_and_moves_no_stock",
    "returned_in_two_parts": f"{_TESTS}/test_returns.py::"
    "test_a_return_restocks_where_it_shipped_from_and_refunds_what_was_paid[sqlite]",
    "bol_pull_retried_after_an_outage": f"{_TESTS}/test_channel_pull.py::"
    "test_rate_limits_and_outages_are_retried_with_backoff",
    "bol_returns_pulled": f"{_TESTS}/test_bol_returns_pull.py::test_each_open_return_is_opened_once[sqlite]",
    "delivered_then_returned": f"{_TESTS}/test_delivered.py::"
    "test_a_delivery_reported_by_sendcloud_moves_the_returns_window[sqlite]",
    "stock_feed_passes": f"{_TESTS}/test_channel_out.py::"
    "test_the_stock_feed_delivers_every_outbox_in_one_activity_and_replays",
    "return_received_disposed_refunded": f"{_TESTS}/test_return_lifecycle.py::"
    "test_requested_received_short_disposed_and_refunded_at_receipt[sqlite]",
    "order_opened_a_return": f"{_TESTS}/test_return_lifecycle.py::"
    "test_requested_received_short_disposed_and_refunded_at_receipt[sqlite]",
    "return_labelled_when_requested": f"{_TESTS}/test_return_screens.py::"
    "test_with_auto_approve_the_customers_request_is_requested_at_once_and_labelled_once[sqlite]",
    "shipment_labelled_after_an_outage": f"{_TESTS}/test_carrier_labels.py::"
    "test_an_outage_leaves_the_label_pending_escalates_it_and_recovers",
    "paid_with_credit_then_cancelled": f"{_TESTS}/test_store_credit_orders.py::"
    "test_a_cancelled_order_gets_its_store_credit_back",
    "return_resolved_as_store_credit": f"{_TESTS}/test_return_resolutions.py::"
    "test_a_return_resolved_as_store_credit_credits_the_customer_once[sqlite]",
    "return_exchanged_like_for_like": f"{_TESTS}/test_return_resolutions.py::"
    "test_an_exchange_like_for_like_ships_the_replacement_as_a_new_shipment_of_the_order[sqlite]",
    "return_exchange_difference_charged": f"{_TESTS}/test_exchange_differences.py::"
    "test_a_dearer_replacement_is_charged_the_difference_and_later_refunds_spread_over_both_payments[sqlite]",
    "return_exchange_resourced": f"{_TESTS}/test_exchange_resourcing.py::"
    "test_a_replacement_picked_short_ships_what_was_found_and_the_rest_from_elsewhere[sqlite]",
    "return_exchange_difference_released": f"{_TESTS}/test_exchange_difference_resourcing.py::"
    "test_a_dearer_replacement_found_nowhere_releases_the_difference_and_refunds_what_came[sqlite]",
    "return_exchange_difference_taken_first": f"{_TESTS}/test_exchange_difference_resourcing.py::"
    "test_a_dearer_replacement_picked_short_takes_the_difference_and_refunds_the_unit_that_did_not_leave[sqlite]",
    "return_label_cancelled": f"{_TESTS}/test_return_label_cancel.py::"
    "test_a_cancelled_return_has_its_label_cancelled_at_sendcloud[sqlite]",
    "return_exchange_paid_by_link": f"{_TESTS}/test_mollie_exchange_links.py::"
    "test_a_dearer_exchange_paid_through_the_link_ships_and_the_payments_add_up[sqlite]",
    "return_exchange_link_expired": f"{_TESTS}/test_mollie_exchange_links.py::"
    "test_an_unpaid_link_is_closed_at_its_deadline_and_what_came_back_is_refunded[sqlite]",
    "goodwill_refunded": f"{_TESTS}/test_goodwill.py::"
    "test_two_goodwill_refunds_at_once_never_give_back_more_than_was_captured[sqlite]",
    "order_edited_before_it_shipped": f"{_TESTS}/test_order_edits.py::"
    "test_reducing_a_line_releases_its_units_and_the_capture_comes_to_the_new_total",
    "order_edit_authorized_anew": f"{_TESTS}/test_order_edit_increases.py::"
    "test_the_sandbox_card_is_authorized_anew_and_a_hold_that_covers_the_increase_is_kept[sqlite]",
    "order_edited_below_store_credit": f"{_TESTS}/test_order_edits_credit.py::"
    "test_an_edit_below_the_credit_spent_releases_the_card_first_and_gives_the_rest_back[sqlite]",
    "order_edit_relabelled": f"{_TESTS}/test_order_edits_relabel.py::"
    "test_a_new_address_cancels_the_label_at_sendcloud_and_the_parcel_ships_with_a_new_one[sqlite]",
    "order_edit_paid_by_link": f"{_TESTS}/test_mollie_order_edit_links.py::"
    "test_an_edit_paid_through_the_link_applies_ships_and_the_payments_add_up[sqlite]",
    "order_edit_link_lapsed": f"{_TESTS}/test_mollie_order_edit_links.py::"
    "test_an_unpaid_link_lapses_and_the_order_ships_as_it_was[sqlite]",
}
"""Journey (the stored file's name) → the test that drives it and records it."""


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """The workflow's history must replay against today's code; with OMS_RECORD_HISTORIES=1 it is
    stored as tests/histories/<name>.json unless a history of that journey is stored already
    (a stored history is what the baseline's code produced: it is never overwritten here)."""
    assert name in JOURNEYS, f"{name} is not a journey of tests.workflow.histories.JOURNEYS"
    history = await assert_replays(handle)
    target = HISTORIES / f"{name}.json"
    if os.environ.get(RECORD_ENV) == "1" and not target.exists():
        HISTORIES.mkdir(exist_ok=True)
        target.write_text(history.to_json())


async def assert_replays(handle: WorkflowHandle[Any, Any]) -> WorkflowHistory:
    """Replay the workflow's history so far against today's code (it fails on any nondeterminism)."""
    history = await handle.fetch_history()
    await replayer().replay_workflow(history)
    return history
