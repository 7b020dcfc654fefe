"""The event-delivery activity: for a window, fan new outbound events out to the subscriptions that
want them, and serve each enabled subscription on its own task: its due deliveries (per ordering
key the earliest pending one) POSTed signed, at most `concurrency` at a time, each bounded by the
HTTP timeout. A dead endpoint's task waits out its backoffs; the others go on meanwhile.

Every database step is a short transaction on a worker thread, none open across a POST. A retried
activity repeats nothing an endpoint already accepted: a delivery is closed in the transaction
that records its 2xx (an answer lost between the two is sent again, with the same webhook-id, which
consumers dedupe on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from temporalio import activity

from activities.outboxes import _heartbeating
from contracts.events import EventDelivery, EventDeliveryInput, EventDeliveryResult
from integrations.events.standard_webhooks import post_event
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes import event_deliveries
from persistence.guarded_writes.event_deliveries import Attempt, DueDelivery

log = logging.getLogger("oms.events")

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: timedelta
    first_retry: timedelta
    window: timedelta
    concurrency: int
    retention: timedelta = timedelta(days=30)


class EventDeliveryActivities(EventDelivery):
    def __init__(
        self,
        session_factory: SessionFactory,
        policy: DeliveryPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = session_factory
        # Polls only read: on SQLite they must not take the write lock every POLL_SECONDS.
        self._reader = readers_of(session_factory)
        self._policy = policy
        self._clock = clock

    @activity.defn
    async def deliver_events(self, data: EventDeliveryInput) -> EventDeliveryResult:
        result = EventDeliveryResult()
        deadline = time.monotonic() + data.window_seconds
        stop = asyncio.Event()
        serving: dict[str, asyncio.Task[None]] = {}
        timeout = self._policy.timeout.total_seconds()
        async with _heartbeating(), httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            try:
                while True:
                    fanned = await asyncio.to_thread(self._fan_out, data.batch_size)
                    result.fanned_out += fanned
                    for subscription_id in await asyncio.to_thread(self._enabled):
                        task = serving.get(subscription_id)
                        if task is None or task.done():
                            serving[subscription_id] = asyncio.create_task(
                                self._serve(subscription_id, http, data.batch_size, stop, result)
                            )
                    if time.monotonic() >= deadline or activity.is_worker_shutdown():
                        break
                    if fanned < data.batch_size:
                        await asyncio.sleep(POLL_SECONDS)
            finally:
                stop.set()
                await asyncio.gather(*serving.values(), return_exceptions=True)
        await asyncio.to_thread(self._prune, data.batch_size * 10)
        return result

    async def _serve(
        self,
        subscription_id: str,
        http: httpx.AsyncClient,
        limit: int,
        stop: asyncio.Event,
        result: EventDeliveryResult,
    ) -> None:
        """One subscription until the window closes: rounds of its due deliveries, each key's next
        one only after the one before it was delivered."""
        slots = asyncio.Semaphore(self._policy.concurrency)
        while not stop.is_set():
            try:
                due = await asyncio.to_thread(self._due, subscription_id, limit)
            except Exception:
                log.exception("event subscription %s: reading its deliveries failed", subscription_id)
                return  # served again from the next poll
            if not due:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
                continue
            try:
                outcomes = await asyncio.gather(*(self._send(http, slots, sent) for sent in due))
            except Exception:
                log.exception("event subscription %s: recording a delivery failed", subscription_id)
                return  # served again from the next poll; an unrecorded 2xx is sent again (same id)
            for outcome in outcomes:
                if outcome.delivered:
                    result.delivered += 1
                else:
                    result.failed += 1
                if outcome.disabled:
                    result.disabled += 1
                    log.warning("event subscription %s %s", subscription_id, outcome.disabled)
                    return

    async def _send(
        self, http: httpx.AsyncClient, slots: asyncio.Semaphore, sent: DueDelivery
    ) -> event_deliveries.Outcome:
        async with slots:
            at = self._clock()
            answer = await post_event(http, sent.url, sent.secrets, sent.event_id, sent.body, at)
        attempt = Attempt(
            answer.status_code, answer.error, answer.response_ms, at + timedelta(milliseconds=answer.response_ms)
        )
        return await asyncio.to_thread(self._record, sent, attempt)

    def _fan_out(self, limit: int) -> int:
        with self._reader() as session:
            if not event_deliveries.waiting_for_fan_out(session):
                return 0
        with self._sessions() as session:
            fanned = event_deliveries.fan_out(session, limit, self._clock())
            session.commit()
            return fanned

    def _prune(self, limit: int) -> int:
        """Once per activity: old events every subscriber has, with their log (a bounded batch)."""
        with self._sessions() as session:
            pruned = event_deliveries.prune(session, self._clock() - self._policy.retention, limit)
            session.commit()
            return pruned

    def _enabled(self) -> list[str]:
        with self._reader() as session:
            return event_deliveries.enabled_subscriptions(session)

    def _due(self, subscription_id: str, limit: int) -> list[DueDelivery]:
        with self._reader() as session:
            return event_deliveries.due(session, subscription_id, self._clock(), limit)

    def _record(self, sent: DueDelivery, attempt: Attempt) -> event_deliveries.Outcome:
        with self._sessions() as session:
            outcome = event_deliveries.record_attempt(
                session, sent, attempt, first_retry=self._policy.first_retry, window=self._policy.window
            )
            session.commit()
            return outcome
