"""Keeping a Temporal Schedule as the settings say, for the daily jobs every worker starts with
(store credit expiry, the books' push to Exact Online, the Moneybird push): created when missing,
otherwise its action, spec and policy brought up to date while a pause and its history are kept;
removed when the settings turn the job off."""

from __future__ import annotations

import logging

from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError, ScheduleUpdate, ScheduleUpdateInput
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger("oms.schedules")


async def keep_schedule(client: Client, schedule_id: str, schedule: Schedule, purpose: str) -> None:
    """Create `schedule_id` as `schedule`, or update an existing one's action, spec and policy."""
    try:
        await client.create_schedule(schedule_id, schedule, memo={"purpose": purpose})
        log.info("created schedule %s", schedule_id)
        return
    except ScheduleAlreadyRunningError:
        pass

    def refresh(current: ScheduleUpdateInput) -> ScheduleUpdate:
        existing = current.description.schedule
        existing.action, existing.spec, existing.policy = schedule.action, schedule.spec, schedule.policy
        return ScheduleUpdate(schedule=existing)

    await client.get_schedule_handle(schedule_id).update(refresh)


async def remove_schedule(client: Client, schedule_id: str) -> None:
    """Delete `schedule_id`; one that does not exist is already removed."""
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
