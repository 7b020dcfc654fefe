"""Every outbox of a stock-feed pass in one activity: available-to-promise to each channel's stock
feed, then shipment confirmations, then cancellations to the channel that sold the order.

One activity instead of three per pass: the feed runs a pass after nearly every order step, and on
a busy engine each activity is a round trip through the Temporal server that orders are waiting
for. Each part is idempotent on its own (outbox rows are closed in the transaction that records the
delivery), so a retried pass repeats nothing a channel already accepted.
"""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.channel_out import CancellationNoticeActivities, ShipmentNoticeActivities
from activities.stock_feed import StockFeedActivities
from workflows.payloads import DeliverNoticesInput, OutboxPassResult, StockFeedInput


class OutboxActivities:
    def __init__(
        self,
        stock: StockFeedActivities,
        shipments: ShipmentNoticeActivities,
        cancellations: CancellationNoticeActivities,
    ) -> None:
        self._stock = stock
        self._shipments = shipments
        self._cancellations = cancellations

    @activity.defn
    async def deliver_outboxes(self, data: StockFeedInput) -> OutboxPassResult:
        stock = await self._stock.publish_stock_updates(data)
        notices = DeliverNoticesInput(batch_size=data.batch_size)
        shipments = await asyncio.to_thread(self._shipments.deliver_shipment_notices, notices)
        cancellations = await asyncio.to_thread(self._cancellations.deliver_cancellation_notices, notices)
        return OutboxPassResult(stock=stock, shipments=shipments, cancellations=cancellations)
