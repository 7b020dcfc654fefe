"""MoneybirdPushWorkflow: one push of every invoice and credit note Moneybird does not hold yet,
started daily by its Temporal Schedule (services.moneybird_schedule) and by an admin (POST /books/moneybird/push
triggers the same schedule, so two pushes never run at once). A run retried or repeated books
nothing twice (services.moneybird_books)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.moneybird import MoneybirdPush, PushInput, PushResult

PUSH_TIMEOUT = timedelta(hours=3)
"""One run: at Moneybird's 150 requests per 5 minutes, a day of ~2,000 documents (two requests each)."""
PUSH_HEARTBEAT = timedelta(minutes=6)
"""A heartbeat per document booked; a wait for the rate limit is at most 5 minutes."""
PUSH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)


@workflow.defn
class MoneybirdPushWorkflow:
    @workflow.run
    async def run(self, data: PushInput) -> PushResult:
        return await workflow.execute_activity_method(
            MoneybirdPush.push_to_moneybird,
            data,
            start_to_close_timeout=PUSH_TIMEOUT,
            heartbeat_timeout=PUSH_HEARTBEAT,
            retry_policy=PUSH_RETRY,
            summary="book invoices and credit notes in Moneybird",
        )
