"""The books' daily push: a Temporal Schedule the worker keeps while an accounting system is
connected (OMS_EXACT_ENABLED), at 02:00 in the books' time zone (visible, pausable and triggerable
in the Temporal UI). Without one the schedule is removed."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from config import Settings
from integrations.temporal.schedules import keep_schedule, remove_schedule
from workflows.books_push import BooksPushWorkflow

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
    if not settings.exact_enabled:
        await remove_schedule(client, BOOKS_SCHEDULE_ID)
        return
    await keep_schedule(client, BOOKS_SCHEDULE_ID, books_schedule(settings), "the books' daily push")
