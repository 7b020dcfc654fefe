"""One Temporal Schedule per pulled channel, so polling is durable and visible in the Temporal UI.

Each worker calls this at start: the first creates the schedules, the rest bring interval, task
queue and action up to date (keeping a pause a person set in the UI). A pulled channel without
credentials loses its schedule, so removing the credentials stops its pulling. Which channels are
pulled, and how many pages a run takes, is each channel's spec's to say (`intake`, `pull_pages`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from contracts.channels import PullChannelInput
from integrations.channels.registry import SPECS, pulled
from integrations.channels.spec import ChannelSpec
from workflows.channel_pull import ChannelPullWorkflow

log = logging.getLogger("oms.channel_schedules")

# A run missed while Temporal was down is made up only if it is this recent; older ones are not
# worth running late, because the next regular run reads from the same cursor anyway.
CATCHUP_WINDOW = timedelta(minutes=1)
# Ends a run however its retries go, so SKIP never blocks the schedule behind a stuck run.
RUN_TIMEOUT = timedelta(hours=2)


def pull_schedule_id(channel: str) -> str:
    return f"channel-pull-{channel}"


def pull_schedule(settings: Settings, spec: ChannelSpec) -> Schedule:
    channel = spec.name
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ChannelPullWorkflow.run,
            PullChannelInput(channel=channel, max_pages=spec.pull_pages),
            id=pull_schedule_id(channel),  # Temporal appends each run's scheduled time
            task_queue=settings.task_queue,
            execution_timeout=RUN_TIMEOUT,
            static_summary=f"pull new and changed {channel} orders from the saved cursor",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=settings.channel_poll_interval)]),
        # A run still going when the next is due (a long backfill, a backoff) is not doubled up.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(
            note=f"Polls {channel} every {settings.channel_poll_interval} (OMS_CHANNEL_POLL_INTERVAL); "
            "pause here to stop pulling, trigger to pull now."
        ),
    )


async def ensure_pull_schedules(
    client: Client, settings: Settings, channels: Iterable[str], specs: Mapping[str, ChannelSpec] = SPECS
) -> None:
    """`channels`: the pulled channels whose credentials are set (ChannelConnections.sources)."""
    wanted = set(channels)
    for spec in pulled(specs):
        if spec.name in wanted:
            await _create_or_update(client, settings, spec)
        else:
            await _delete_if_present(client, spec.name)


async def _create_or_update(client: Client, settings: Settings, spec: ChannelSpec) -> None:
    channel = spec.name
    schedule = pull_schedule(settings, spec)
    schedule_id = pull_schedule_id(channel)
    try:
        await client.create_schedule(
            schedule_id, schedule, memo={"channel": channel, "purpose": "pull orders (ops.channel_schedules)"}
        )
        log.info("created schedule %s every %s", schedule_id, settings.channel_poll_interval)
        return
    except ScheduleAlreadyRunningError:
        pass

    stranded: list[ScheduleActionExecutionStartWorkflow] = []

    def refresh(current: ScheduleUpdateInput) -> ScheduleUpdate:
        stranded.clear()  # in case the update is retried
        existing = current.description.schedule
        old_action = existing.action
        if isinstance(old_action, ScheduleActionStartWorkflow) and old_action.task_queue != settings.task_queue:
            stranded.extend(
                run
                for run in current.description.info.running_actions
                if isinstance(run, ScheduleActionExecutionStartWorkflow)
            )
        existing.action, existing.spec, existing.policy = schedule.action, schedule.spec, schedule.policy
        if not existing.state.paused:  # a pause keeps the note its person wrote
            existing.state.note = schedule.state.note
        return ScheduleUpdate(schedule=existing)

    await client.get_schedule_handle(schedule_id).update(refresh)
    log.info("updated schedule %s every %s", schedule_id, settings.channel_poll_interval)
    await _end_stranded_runs(client, stranded, settings.task_queue)


async def _end_stranded_runs(client: Client, runs: list[ScheduleActionExecutionStartWorkflow], task_queue: str) -> None:
    """Runs started on the task queue the schedule used before: nobody may serve it any more, and
    under SKIP one such run would hold back every later one. Ending one mid-page is harmless (the
    cursor was saved per page; the next run repeats at most that page)."""
    for run in runs:
        handle = client.get_workflow_handle(run.workflow_id, first_execution_run_id=run.first_execution_run_id)
        try:
            await handle.terminate(reason=f"the pull schedule moved to task queue {task_queue}")
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:  # NOT_FOUND: it finished meanwhile
                raise


async def _delete_if_present(client: Client, channel: str) -> None:
    try:
        await client.get_schedule_handle(pull_schedule_id(channel)).delete()
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        return
    log.info("deleted schedule %s: %s has no credentials", pull_schedule_id(channel), channel)
