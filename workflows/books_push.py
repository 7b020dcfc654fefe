"""BooksPushWorkflow: one run of the daily push of the books to the accounting systems, started by
its Temporal Schedule (ops.books). A run that is retried or overlaps another books nothing twice
(services.books)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.books import BooksPush, PushBooksInput, PushBooksResult

from workflows.policies import STEP_RETRY

PUSH_TIMEOUT = timedelta(minutes=30)
"""One run: at most a month of days, a few calls each, waiting out the minutely limit."""


@workflow.defn
class BooksPushWorkflow:
    @workflow.run
    async def run(self) -> PushBooksResult:
        return await workflow.execute_activity_method(
            BooksPush.push_books,
            PushBooksInput(workflow.now()),
            start_to_close_timeout=PUSH_TIMEOUT,
            retry_policy=STEP_RETRY,
            summary="book the days not yet booked",
        )
