"""StockFeedWorkflow: one per task queue, forever (continue-as-new), delivering the ATP outbox.

A workflow rather than a loop in some process: exactly one runs however many workers there are,
ops see it in the Temporal UI, and a failing channel feed is retried with backoff, durably.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.stock_feed import StockFeedActivities
    from workflows.payloads import StockFeedInput

MAX_BACKOFF_SECONDS = 60.0


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
            failures = failures + 1 if result.failed and not result.delivered else 0
            if result.delivered >= data.batch_size and not result.failed:
                continue  # a full batch: there is a backlog, go again at once
            wait = min(2.0**failures, MAX_BACKOFF_SECONDS) if failures else data.idle_seconds
            with contextlib.suppress(TimeoutError):  # an idle tick: look again
                await workflow.wait_condition(lambda: self._poked, timeout=timedelta(seconds=wait))
        workflow.continue_as_new(data)
