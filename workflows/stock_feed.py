"""StockFeedWorkflow: one per task queue, forever (continue-as-new), delivering the ATP outbox and
the shipment- and cancellation-notice outboxes (status out) to the channels, all three in one
activity per pass. A pass that finds nothing waits for work inside its activity, so an idle feed
runs one activity every few minutes; only a failing channel makes the workflow itself back off.

A workflow rather than a loop in some process: exactly one runs however many workers there are,
ops see it in the Temporal UI, and a failing channel feed is retried with backoff, durably.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.channels import Outboxes, OutboxPassResult, StockFeedInput

MAX_BACKOFF_SECONDS = 60.0


@workflow.defn
class StockFeedWorkflow:
    def __init__(self) -> None:
        self._poked = False

    @workflow.signal
    def poke(self) -> None:
        """Stock changed: deliver now instead of at the end of a backoff."""
        self._poked = True

    @workflow.run
    async def run(self, data: StockFeedInput) -> None:
        failures = 0
        for _ in range(data.passes_before_continue):
            self._poked = False
            delivered, failed, backlog = await self._one_pass(data)
            failures = failures + 1 if failed and not delivered else 0
            if backlog or not failures:
                continue  # a full batch goes again at once; an idle pass already waited in its activity
            wait = min(2.0**failures, MAX_BACKOFF_SECONDS)
            with contextlib.suppress(TimeoutError):  # the backoff ran out: try the channels again
                await workflow.wait_condition(lambda: self._poked, timeout=timedelta(seconds=wait))
        workflow.continue_as_new(data)

    @staticmethod
    async def _one_pass(data: StockFeedInput) -> tuple[int, int, bool]:
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
