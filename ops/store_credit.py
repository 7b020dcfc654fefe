"""Store credit expiry: a daily Temporal Schedule the worker keeps (visible, pausable and
triggerable in the Temporal UI), and the same run from the command line:

    .venv/bin/python -m ops.store_credit expire

Both write off what is left of every lot past its expiry (OMS_STORE_CREDIT_EXPIRY stamps each issue
with one) and are idempotent: a repeated or overlapping run writes nothing more.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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

from config import Settings, startup_settings
from integrations.temporal.schedules import keep_schedule
from persistence.db import create_db_engine, create_session_factory
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from workflows.store_credit_expiry import StoreCreditExpiryWorkflow

EXPIRY_SCHEDULE_ID = "store-credit-expiry"
EVERY = timedelta(days=1)
AT = timedelta(hours=3)
"""03:00 UTC: after the day's last orders in Europe, before the first."""


def expiry_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            StoreCreditExpiryWorkflow.run,
            id=EXPIRY_SCHEDULE_ID,  # Temporal appends each run's scheduled time
            task_queue=settings.task_queue,
            execution_timeout=timedelta(hours=2),
            static_summary="write off store credit past its expiry",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY, offset=AT)]),
        # A run missed while Temporal was down is made up within a day; two never run at once.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=EVERY),
        state=ScheduleState(note="Writes off expired store credit daily at 03:00 UTC; trigger to run now."),
    )


async def ensure_expiry_schedule(client: Client, settings: Settings) -> None:
    """Create the schedule, or bring its action (task queue) and time up to date, keeping a pause."""
    await keep_schedule(client, EXPIRY_SCHEDULE_ID, expiry_schedule(settings), "store credit expiry")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ops.store_credit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("expire", help="write off store credit past its expiry now")
    parser.parse_args(argv)
    settings = startup_settings("ops.store_credit")
    engine = create_db_engine(settings.resolved_database_url, pool_size=2)
    try:
        accounts = CreditAccounts(units_on(create_session_factory(engine)), settings.store_credit_expiry)
        done = accounts.expire_due(datetime.now(UTC))
    finally:
        engine.dispose()
    print(f"{done.entries} expiry entries written on {done.accounts} accounts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
