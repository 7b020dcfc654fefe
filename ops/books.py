"""The books' daily push: a Temporal Schedule the worker keeps while an accounting system is
connected (OMS_EXACT_ENABLED), at 02:00 in the books' time zone (visible, pausable and triggerable
in the Temporal UI). Without one the schedule is removed."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from workflows.books_push import BooksPushWorkflow

log = logging.getLogger("oms.books")

BOOKS_SCHEDULE_ID = "books-push"
HOUR = 2
"""02:00 in the books' time zone: yesterday is over, even for a late-night sale."""


def books_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            BooksPushWorkflow.run,
            id=BOOKS_SCHEDULE_ID,  # Temporal appends each run's scheduled time
            task_queue=settings.task_queue,
            execution_timeout=timedelta(hours=2),
            static_summary="book yesterday (and any day not yet booked) in the accounting system",
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=(ScheduleRange(HOUR),), minute=(ScheduleRange(0),))],
            time_zone_name=settings.books_timezone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        state=ScheduleState(note=f"Books yesterday at 02:00 {settings.books_timezone}; trigger to run now."),
    )


async def ensure_books_schedule(client: Client, settings: Settings) -> None:
    """Create the schedule (or bring it up to date, keeping a pause) when Exact is enabled; else remove it."""
    handle = client.get_schedule_handle(BOOKS_SCHEDULE_ID)
    if not settings.exact_enabled:
        try:
            await handle.delete()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
        return
    schedule = books_schedule(settings)
    try:
        await client.create_schedule(BOOKS_SCHEDULE_ID, schedule, memo={"purpose": "the books' daily push"})
        log.info("created schedule %s", BOOKS_SCHEDULE_ID)
        return
    except ScheduleAlreadyRunningError:
        pass

    def refresh(current: ScheduleUpdateInput) -> ScheduleUpdate:
        existing = current.description.schedule
        existing.action, existing.spec, existing.policy = schedule.action, schedule.spec, schedule.policy
        return ScheduleUpdate(schedule=existing)

    await handle.update(refresh)
