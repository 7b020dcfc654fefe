"""Starting the workflows of orders taken but not started: the request's own start did not happen
(Temporal was away, the process stopped between its answer and the start) or failed.

Every API process runs one sweeper (api.main's lifespan), every OMS_INTAKE_SWEEP_INTERVAL: with K
replicas each row is claimed by one of them at a time (persistence.guarded_writes.order_intake), and
a start is idempotent by workflow id besides (a run that exists is marked started, not started
again). In the API rather than the worker: the API is what takes orders while Temporal is away, and
it holds the client and the database the sweep needs; a worker cannot help while Temporal is away
anyway. A failed start waits OMS_INTAKE_RETRY_FIRST, then twice as long each time, at most a minute,
so orders start within a minute of Temporal's return. Started rows are deleted after
OMS_INTAKE_RETENTION, once an hour."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from config import Settings
from persistence.guarded_writes.order_intake import Waiting
from services.gateway import WorkflowGateway
from services.intake_input import from_json
from services.unit_of_work import UnitOfWorkFactory
from services.waiting import reason

log = logging.getLogger("oms.intake")

BATCH = 50
"""Rows claimed (and started concurrently) at a time."""
CLAIM_LEASE = timedelta(seconds=60)
"""How long a claim keeps other sweepers off a row: far longer than its starts take."""
RETRY_MAX = timedelta(minutes=1)
FORGET_EVERY = timedelta(hours=1)


class IntakeSweeper:
    def __init__(
        self,
        settings: Settings,
        units: UnitOfWorkFactory,
        workflows: WorkflowGateway,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._units = units
        self._workflows = workflows
        self._clock = clock
        self._forgotten_at: datetime | None = None
        self._failing = False

    async def run(self) -> None:
        """Sweep every OMS_INTAKE_SWEEP_INTERVAL until cancelled. A pass that fails (the database
        away) is said once in the log and tried again at the next tick."""
        interval = self._settings.intake_sweep_interval.total_seconds()
        while True:
            try:
                await self.sweep()
                await self.forget()
                if self._failing:
                    log.info("intake sweeper working again")
                self._failing = False
            except Exception as exc:  # the next tick tries again; the rows wait in the database
                if not self._failing:
                    log.warning("intake sweeper pass failed (%s); trying again every %.0f s", reason(exc), interval)
                self._failing = True
            await asyncio.sleep(interval)

    async def sweep(self, now: datetime | None = None) -> int:
        """One pass at `now` (default: the clock): start every row due, a batch at a time, until
        none is left or a start fails. How many were started (or found running)."""
        at = now or self._clock()
        started = 0
        while claimed := await asyncio.to_thread(self._claim, at):
            errors = dict(
                (row.order_id, error)
                for row, error in zip(claimed, await asyncio.gather(*map(self._start, claimed)), strict=True)
                if error is not None
            )
            await asyncio.to_thread(self._settle, claimed, errors, at)
            started += len(claimed) - len(errors)
            if errors:
                first = next(iter(errors.values()))
                log.warning("%d orders taken, not started (%s): tried again later", len(errors), first)
                break
            if len(claimed) < BATCH:
                break
        return started

    async def forget(self, now: datetime | None = None) -> int:
        """Delete rows started more than OMS_INTAKE_RETENTION ago, at most once an hour."""
        at = now or self._clock()
        if self._forgotten_at is not None and at - self._forgotten_at < FORGET_EVERY:
            return 0
        self._forgotten_at = at
        return await asyncio.to_thread(self._forget, at - self._settings.intake_retention)

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed start: doubling from OMS_INTAKE_RETRY_FIRST."""
        first = self._settings.intake_retry_first
        return min(first * (1 << min(max(attempts - 1, 0), 20)), max(RETRY_MAX, first))

    def _claim(self, now: datetime) -> list[Waiting]:
        with self._units(read_only=True) as uow:  # an idle sweeper takes no write lock
            if not uow.intake.anything_due(now):
                return []
        with self._units() as uow:
            claimed = uow.intake.claim_due(now, CLAIM_LEASE, BATCH)
            uow.commit()
        return claimed

    async def _start(self, row: Waiting) -> str | None:
        """None once its workflow runs (started now, or found started); else why not."""
        try:
            await self._workflows.start_order(from_json(row.workflow_input), task_queue=self._settings.task_queue)
        except Exception as exc:  # the engine away or refusing: the row waits for the next try
            return reason(exc)
        return None

    def _settle(self, claimed: list[Waiting], errors: dict[str, str], now: datetime) -> None:
        with self._units() as uow:
            uow.intake.mark_started([row.order_id for row in claimed if row.order_id not in errors], now)
            for row in claimed:
                if row.order_id in errors:
                    uow.intake.put_off(row.order_id, now + self.retry_delay(row.attempts), errors[row.order_id])
            uow.commit()

    def _forget(self, before: datetime) -> int:
        with self._units() as uow:
            forgotten = uow.intake.forget_started(before)
            uow.commit()
        return forgotten
