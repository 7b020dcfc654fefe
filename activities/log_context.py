"""Every log line an activity writes names the order it works on: one worker interceptor binds the
order id from the activity's input (its `order_id`, or its order's) for the activity's run, so
structured logs (services.logs) carry `order_id` without each activity passing it along."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


class LogContext(Interceptor):
    """Pass to every Worker (worker.build_worker, worker.location_worker)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindOrderId(next)


def order_id_of(args: Sequence[Any], workflow_id: str) -> str | None:
    """The order an activity works on: named by its input, else by its workflow (an order
    workflow's id is the order id); None for work on no one order (the stock feed, a pull)."""
    for arg in args:
        for candidate in (getattr(arg, "order_id", None), getattr(getattr(arg, "order", None), "order_id", None)):
            if isinstance(candidate, str) and candidate:
                return candidate
    return workflow_id if workflow_id.startswith("order-") else None


class _BindOrderId(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        order_id = order_id_of(input.args, activity.info().workflow_id or "")
        if order_id is None:
            return await self.next.execute_activity(input)
        # The activity's own context (sync activities run on a copy of it): nothing outlives the run.
        with structlog.contextvars.bound_contextvars(order_id=order_id):
            return await self.next.execute_activity(input)
