"""EventDeliveryWorkflow: one per task queue, forever (continue-as-new), delivering outbound events
to the systems that subscribed (activities.event_delivery). Each activity runs passes for a window
and serves every subscription on its own, so a slow or dead endpoint holds up nobody else; only an
activity that fails (the database away) makes the workflow back off, through its retry policy.

A workflow rather than a loop in some process: exactly one runs however many workers there are, and
ops see it in the Temporal UI next to the stock feed."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.events import EventDelivery, EventDeliveryInput


@workflow.defn
class EventDeliveryWorkflow:
    @workflow.run
    async def run(self, data: EventDeliveryInput) -> None:
        for _ in range(data.passes_before_continue):
            await workflow.execute_activity_method(
                EventDelivery.deliver_events,
                data,
                # It heartbeats every 2 s whatever it does, so a worker that dies is noticed in 10 s;
                # in-flight POSTs are bounded by OMS_EVENT_HTTP_TIMEOUT after the window closes.
                start_to_close_timeout=timedelta(seconds=data.window_seconds) + timedelta(minutes=5),
                heartbeat_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
                summary="fan out events and deliver them to subscribers",
            )
        workflow.continue_as_new(data)
