"""The Moneybird push: a daily Temporal Schedule every worker keeps at start while Moneybird is
enabled (visible, pausable and triggerable in the Temporal UI; POST /books/moneybird/push triggers
it). Each run books every issued invoice and credit note Moneybird does not hold yet, each once;
runs never overlap (a trigger during a run waits for it).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from config import Settings
from contracts.moneybird import PushInput
from integrations.temporal.schedules import keep_schedule, remove_schedule
from workflows.moneybird_push import PUSH_TIMEOUT, MoneybirdPushWorkflow

MONEYBIRD_SCHEDULE_ID = "books-moneybird-push"
EVERY = timedelta(days=1)
AT = timedelta(hours=2)
"""02:00 UTC: the day before is complete (documents are dated by their UTC day)."""


def moneybird_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MoneybirdPushWorkflow.run,
            PushInput(),
            id=MONEYBIRD_SCHEDULE_ID,  # Temporal appends each run's scheduled time
            task_queue=settings.task_queue,
            execution_timeout=PUSH_TIMEOUT * 2,
            static_summary="book invoices and credit notes in Moneybird",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY, offset=AT)]),
        # Two pushes never run at once (each would look up, then post the same document); a trigger
        # during a run is buffered and runs after it.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE, catchup_window=EVERY),
        state=ScheduleState(note="Books new invoices and credit notes in Moneybird daily at 02:00 UTC."),
    )


async def ensure_moneybird_schedule(client: Client, settings: Settings) -> None:
    """While Moneybird is enabled: create the schedule or bring it up to date (keeping a pause);
    otherwise remove it."""
    if not settings.moneybird_enabled:
        await remove_schedule(client, MONEYBIRD_SCHEDULE_ID)
        return
    await keep_schedule(client, MONEYBIRD_SCHEDULE_ID, moneybird_schedule(settings), "Moneybird push")
