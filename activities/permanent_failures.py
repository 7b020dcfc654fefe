"""Activities stop retrying what can never succeed: one worker interceptor for every activity.

A write the database refuses for the data itself (a value longer than its column, a number beyond
its integer type) fails the same way on every retry; left to the retry policy it would retry
forever while the order stood still. Here it becomes a non-retryable ApplicationError of type
ErrorType.STORAGE_REFUSED whose message names the column (never the value: it may be personal data), so the
workflow sees it at once. The statement and its parameters are not chained into the failure.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from contracts.errors import ErrorType
from persistence.storage_errors import describe, is_permanent


class PermanentFailures(Interceptor):
    """Pass to every Worker (worker.build_worker, worker.location_worker)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _StopRetryingRefusedWrites(next)


class _StopRetryingRefusedWrites(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except Exception as exc:
            if not is_permanent(exc):
                raise
            what = activity.info().activity_type
            raise ApplicationError(
                f"{what}: the database cannot store this: {describe(exc)}",
                type=ErrorType.STORAGE_REFUSED,
                non_retryable=True,
            ) from None
