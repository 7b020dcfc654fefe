"""Every outbox of a stock-feed pass in one activity: available-to-promise to each channel's stock
feed, then shipment confirmations, then cancellations to the channel that sold the order.

One activity instead of three per pass: the feed runs a pass after nearly every order step, and on
a busy engine each activity is a round trip through the Temporal server that orders are waiting
for. Each part is idempotent on its own (outbox rows are closed in the transaction that records the
delivery), so a retried pass repeats nothing a channel already accepted.

The activity runs passes for a window (`wait_for_work_seconds`), looking at the outboxes every
POLL_SECONDS with one cheap query and passing when something waits: an engine, idle or busy, costs
one activity every few minutes instead of one per pass (one a second when idle), and a change still
reaches the channels within a poll.
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
from contracts.channels import (
    DeliverNoticesResult,
    Outboxes,
    OutboxPassResult,
    PublishStockResult,
    StockFeedInput,
)
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes.outbox_work import new_work_waiting

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


def failed(result: OutboxPassResult) -> bool:
    """Whether a channel refused or was down during the pass."""
    return bool(result.stock.failed or result.shipments.failed or result.cancellations.failed)


def backlog(result: OutboxPassResult, batch_size: int) -> bool:
    """A pass that took a full batch: more is waiting behind it."""
    notices = (result.shipments, result.cancellations)
    return result.stock.delivered >= batch_size or any(n.delivered + n.skipped >= batch_size for n in notices)


def _sum(a: OutboxPassResult, b: OutboxPassResult) -> OutboxPassResult:
    def notices(x: DeliverNoticesResult, y: DeliverNoticesResult) -> DeliverNoticesResult:
        return DeliverNoticesResult(
            x.delivered + y.delivered, x.failed + y.failed, x.skipped + y.skipped, x.deferred + y.deferred
        )

    stock = PublishStockResult(
        a.stock.delivered + b.stock.delivered, a.stock.failed + b.stock.failed, a.stock.woken + b.stock.woken
    )
    return OutboxPassResult(stock, notices(a.shipments, b.shipments), notices(a.cancellations, b.cancellations))


class OutboxActivities(Outboxes):
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
        self._reader = readers_of(session_factory)

    @activity.defn
    async def deliver_outboxes(self, data: StockFeedInput) -> OutboxPassResult:
        """Passes for as long as `data.wait_for_work_seconds`: one whenever new work is waiting
        (at most one per POLL_SECONDS, at once while a full batch says there is a backlog), so a
        busy engine also costs one activity per window rather than one per pass. Returns early when
        a pass failed (the workflow backs off before the channel is tried again) or the worker stops."""
        async with _heartbeating():
            total = await self._pass(data)
            if data.wait_for_work_seconds <= 0:
                return total
            last = total
            deadline = time.monotonic() + data.wait_for_work_seconds
            while time.monotonic() < deadline:
                if failed(last) or activity.is_worker_shutdown():
                    return total
                if not backlog(last, data.batch_size):
                    await asyncio.sleep(POLL_SECONDS)
                    if not await asyncio.to_thread(self._new_work_waiting):
                        continue
                last = await self._pass(data)
                total = _sum(total, last)
            last = await self._pass(data)  # refused notices whose retry time came, and what just arrived
            last.stock.woken += await self._stock.wake_backorders()
            return _sum(total, last)

    async def _pass(self, data: StockFeedInput) -> OutboxPassResult:
        stock = await self._stock.publish_stock_updates(data.batch_size)
        shipments = await asyncio.to_thread(self._shipments.deliver, data.batch_size)
        cancellations = await asyncio.to_thread(self._cancellations.deliver, data.batch_size)
        return OutboxPassResult(stock=stock, shipments=shipments.result(), cancellations=cancellations.result())

    def _new_work_waiting(self) -> bool:
        with self._reader() as session:
            return new_work_waiting(session)
