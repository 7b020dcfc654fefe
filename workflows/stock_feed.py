"""StockFeedWorkflow: one per task queue, forever (continue-as-new), delivering the ATP outbox and
the shipment- and cancellation-notice outboxes (status out) to the channels.

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
    from activities.channel_out import CancellationNoticeActivities, ShipmentNoticeActivities
    from activities.stock_feed import StockFeedActivities
    from workflows.payloads import DeliverNoticesInput, DeliverNoticesResult, StockFeedInput

SHIPMENT_NOTICES_PATCH = "shipment-notices-v1"
CANCELLATION_NOTICES_PATCH = "cancellation-notices-v1"

MAX_BACKOFF_SECONDS = 60.0
_OUTBOXES = (
    (SHIPMENT_NOTICES_PATCH, ShipmentNoticeActivities.deliver_shipment_notices, "confirm shipments to channels"),
    (
        CANCELLATION_NOTICES_PATCH,
        CancellationNoticeActivities.deliver_cancellation_notices,
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
            result = await workflow.execute_activity_method(
                StockFeedActivities.publish_stock_updates,
                data,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
                summary="deliver ATP to channels",
            )
            delivered, failed = result.delivered, result.failed
            backlog = result.delivered >= data.batch_size and not result.failed
            # Shipment confirmations, then cancellations, back to the channel that sold each order:
            # in the same loop (one per queue, the same backoff, no second forever-workflow), each
            # its own pass so a backlog of one does not hold up the other.
            for patch, method, summary in _OUTBOXES:
                if workflow.patched(patch):
                    sent = await self._deliver_outbox(method, data, summary)
                    delivered, failed = delivered + sent.delivered, failed + sent.failed
                    backlog = backlog or (sent.delivered + sent.skipped >= data.batch_size and not sent.failed)
            failures = failures + 1 if failed and not delivered else 0
            if backlog:
                continue  # a full batch: there is a backlog, go again at once
            wait = min(2.0**failures, MAX_BACKOFF_SECONDS) if failures else data.idle_seconds
            with contextlib.suppress(TimeoutError):  # an idle tick: look again
                await workflow.wait_condition(lambda: self._poked, timeout=timedelta(seconds=wait))
        workflow.continue_as_new(data)

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
