"""Every outbox of a stock-feed pass in one activity: available-to-promise to each channel's stock
feed, then shipment confirmations, then cancellations to the channel that sold the order.

One activity instead of three per pass: the feed runs a pass after nearly every order step, and on
a busy engine each activity is a round trip through the Temporal server that orders are waiting
for. Each part is idempotent on its own (outbox rows are closed in the transaction that records the
delivery), so a retried pass repeats nothing a channel already accepted.

When a pass finds nothing to do, the activity waits for work itself (`wait_for_work_seconds`),
looking at the outboxes every POLL_SECONDS with one cheap query: an idle engine costs one activity
every few minutes instead of one a second, and a change still reaches the channels within a poll.
At the end of an idle wait it also looks at every backorder once more, so an order the stock could
serve is never left asleep because the change that freed the stock woke someone else first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from temporalio import activity

from activities.channel_out import CancellationNoticeActivities, ShipmentNoticeActivities
from activities.stock_feed import StockFeedActivities
from persistence.db import SessionFactory, create_session_factory
from persistence.outbox_work import new_work_waiting
from workflows.payloads import DeliverNoticesInput, OutboxPassResult, StockFeedInput

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 2.0
"""How often the activity says it is alive, whatever it is doing (the workflow's heartbeat timeout is
a few times this): a worker that dies mid-pass or mid-wait is noticed in seconds, not minutes."""


@contextlib.asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeat every HEARTBEAT_SECONDS while the block runs (its database and channel calls run
    on threads, so the event loop stays free to beat)."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


def acted(result: OutboxPassResult) -> bool:
    """Whether the pass delivered or tried to deliver anything (deferred notices are not work)."""
    stock, notices = result.stock, (result.shipments, result.cancellations)
    return bool(stock.delivered or stock.failed or any(n.delivered or n.failed or n.skipped for n in notices))


class OutboxActivities:
    def __init__(
        self,
        stock: StockFeedActivities,
        shipments: ShipmentNoticeActivities,
        cancellations: CancellationNoticeActivities,
        session_factory: SessionFactory,
    ) -> None:
        self._stock = stock
        self._shipments = shipments
        self._cancellations = cancellations
        # The poll only reads: on SQLite it must not take the write lock every POLL_SECONDS.
        self._reader = create_session_factory(session_factory.kw["bind"], read_only=True)

    @activity.defn
    async def deliver_outboxes(self, data: StockFeedInput) -> OutboxPassResult:
        async with _heartbeating():
            result = await self._pass(data)
            if acted(result) or data.wait_for_work_seconds <= 0:
                return result
            deadline = time.monotonic() + data.wait_for_work_seconds
            while time.monotonic() < deadline:
                if activity.is_worker_shutdown():
                    return result  # the worker is stopping: the next pass runs on another one at once
                await asyncio.sleep(POLL_SECONDS)
                if await asyncio.to_thread(self._new_work_waiting):
                    return await self._pass(data)
            result = await self._pass(data)  # refused notices whose retry time came, and what just arrived
            result.stock.woken += await self._stock.wake_backorders()
            return result

    async def _pass(self, data: StockFeedInput) -> OutboxPassResult:
        stock = await self._stock.publish_stock_updates(data)
        notices = DeliverNoticesInput(batch_size=data.batch_size)
        shipments = await asyncio.to_thread(self._shipments.deliver_shipment_notices, notices)
        cancellations = await asyncio.to_thread(self._cancellations.deliver_cancellation_notices, notices)
        return OutboxPassResult(stock=stock, shipments=shipments, cancellations=cancellations)

    def _new_work_waiting(self) -> bool:
        with self._reader() as session:
            return new_work_waiting(session)
