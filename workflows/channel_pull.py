"""ChannelPullWorkflow: one scheduled pull of a channel's orders, then of its own open returns (bol.com)
(ops.channel_schedules starts it).

A workflow per run, rather than a loop in the worker, so each pull is visible in the Temporal UI
with its outcome, a channel outage backs off durably, and a run that gives up fails where people
look (the next scheduled run starts afresh from the saved cursor).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.channel_returns import ChannelReturnPulls, PullReturnsInput
    from contracts.channels import ChannelPulls, PullChannelInput, PullChannelResult

# 2 s, 4 s, ... up to 5 min between attempts (a 429's Retry-After overrides the interval), and a
# bounded number of them: a channel that stays down fails this run, not the schedule.
PULL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=6,
)
PULL_TIMEOUT = timedelta(minutes=10)
"""A run of up to max_pages pages; an attempt cut short resumes from the last saved cursor."""
PULL_HEARTBEAT = timedelta(minutes=1)
RETURNS_PULL_PATCH = "bol-returns-pull-v1"
"""Runs recorded before the returns pull replay without it."""


@workflow.defn
class ChannelPullWorkflow:
    @workflow.run
    async def run(self, data: PullChannelInput) -> PullChannelResult:
        result = await workflow.execute_activity_method(
            ChannelPulls.pull_channel_orders,
            data,
            start_to_close_timeout=PULL_TIMEOUT,
            heartbeat_timeout=PULL_HEARTBEAT,
            retry_policy=PULL_RETRY,
            summary=f"pull {data.channel} orders",
        )
        if workflow.patched(RETURNS_PULL_PATCH):
            # After the orders, so a return's order is here when its return is. A channel without
            # returns of its own answers at once (supported=False).
            result.returns = await workflow.execute_activity_method(
                ChannelReturnPulls.pull_channel_returns,
                PullReturnsInput(channel=data.channel, max_pages=data.max_pages),
                start_to_close_timeout=PULL_TIMEOUT,
                heartbeat_timeout=PULL_HEARTBEAT,
                retry_policy=PULL_RETRY,
                summary=f"pull {data.channel} returns",
            )
        return result
