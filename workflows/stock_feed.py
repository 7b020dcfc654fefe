"""StockFeedWorkflow: one per task queue, forever (continue-as-new), delivering the ATP outbox and
the shipment- and cancellation-notice outboxes (status out) to the channels, all three in one
activity per pass (runs from before that patch replay with an activity per outbox). A pass that
finds nothing waits for work inside its activity, so an idle feed runs one activity every few
minutes (runs from before that patch waited a second between passes here).

A workflow rather than a loop in some process: exactly one runs however many workers there are,
ops see it in the Temporal UI, and a failing channel feed is retried with backoff, durably.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.channels import (
        CancellationNotices,
        DeliverNoticesInput,
        DeliverNoticesResult,
        Outboxes,
        OutboxPassResult,
        ShipmentNotices,
        StockFeedInput,
        StockPublishing,
    )

SHIPMENT_NOTICES_PATCH = "shipment-notices-v1"
CANCELLATION_NOTICES_PATCH = "cancellation-notices-v1"
SINGLE_ACTIVITY_OUTBOXES_PATCH = "outboxes-in-one-activity-v1"
WAITS_IN_ACTIVITY_PATCH = "feed-waits-in-activity-v1"

MAX_BACKOFF_SECONDS = 60.0
_OUTBOXES = (
    (SHIPMENT_NOTICES_PATCH, ShipmentNotices.deliver_shipment_notices, "confirm shipments to channels"),
    (
        CANCELLATION_NOTICES_PATCH,
        CancellationNotices.deliver_cancellation_notices,
        "tell channels of cancellations",
    ),
)


@workflow.defn
class StockFeedWorkflow:
    def __init__(self) -> None:
        self._poked = False

    @workflow.signal
    def poke(self) -> None:
        """Stock changed: deliver now instead of at the next idle tick."""
        self._poked = True

    @workflow.run
    async def run(self, data: StockFeedInput) -> None:
        failures = 0
        for _ in range(data.passes_before_continue):
            self._poked = False
            if workflow.patched(SINGLE_ACTIVITY_OUTBOXES_PATCH):
                delivered, failed, backlog = await self._one_activity_pass(data)
            else:
                delivered, failed, backlog = await self._pass_per_outbox(data)
            failures = failures + 1 if failed and not delivered else 0
            if backlog:
                continue  # a full batch: there is a backlog, go again at once
            if not failures and workflow.patched(WAITS_IN_ACTIVITY_PATCH):
                continue  # the activity waited for work itself: nothing to wait for here
            wait = min(2.0**failures, MAX_BACKOFF_SECONDS) if failures else data.idle_seconds
            with contextlib.suppress(TimeoutError):  # an idle tick: look again
                await workflow.wait_condition(lambda: self._poked, timeout=timedelta(seconds=wait))
        workflow.continue_as_new(data)

    @staticmethod
    async def _one_activity_pass(data: StockFeedInput) -> tuple[int, int, bool]:
        """Stock, shipment confirmations and cancellations in one activity: (delivered, failed, backlog)."""
        result: OutboxPassResult = await workflow.execute_activity_method(
            Outboxes.deliver_outboxes,
            data,
            # An idle pass waits for work inside the activity (data.wait_for_work_seconds); it
            # heartbeats every 2 s whatever it does, so a worker that dies is noticed in 10 s.
            start_to_close_timeout=timedelta(seconds=data.wait_for_work_seconds) + timedelta(minutes=5),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            summary="deliver stock, shipment confirmations and cancellations to channels",
        )
        stock, notices = result.stock, (result.shipments, result.cancellations)
        delivered = stock.delivered + sum(n.delivered for n in notices)
        failed = stock.failed + sum(n.failed for n in notices)
        backlog = (stock.delivered >= data.batch_size and not stock.failed) or any(
            n.delivered + n.skipped >= data.batch_size and not n.failed for n in notices
        )
        return delivered, failed, backlog

    async def _pass_per_outbox(self, data: StockFeedInput) -> tuple[int, int, bool]:
        """Runs from before SINGLE_ACTIVITY_OUTBOXES_PATCH: an activity per outbox, each behind its own patch."""
        result = await workflow.execute_activity_method(
            StockPublishing.publish_stock_updates,
            data,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            summary="deliver ATP to channels",
        )
        delivered, failed = result.delivered, result.failed
        backlog = result.delivered >= data.batch_size and not result.failed
        for patch, method, summary in _OUTBOXES:
            if workflow.patched(patch):
                sent = await self._deliver_outbox(method, data, summary)
                delivered, failed = delivered + sent.delivered, failed + sent.failed
                backlog = backlog or (sent.delivered + sent.skipped >= data.batch_size and not sent.failed)
        return delivered, failed, backlog

    @staticmethod
    async def _deliver_outbox(method: Any, data: StockFeedInput, summary: str) -> DeliverNoticesResult:
        result: DeliverNoticesResult = await workflow.execute_activity_method(
            method,
            DeliverNoticesInput(batch_size=data.batch_size),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            summary=summary,
        )
        return result
