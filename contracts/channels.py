"""What flows between the engine and the selling channels: the stock feed's passes over the outboxes
(available-to-promise, shipment and cancellation notices) and the scheduled pulls of orders."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from contracts.channel_returns import PullReturnsResult


@dataclass
class StockFeedInput:
    passes_before_continue: int = 500
    batch_size: int = 200
    wait_for_work_seconds: float = 240.0
    """How long a pass that found nothing waits inside its activity for something to deliver."""


@dataclass
class PublishStockResult:
    delivered: int
    """Outbox rows delivered (or superseded by a newer row of the same SKU)."""
    failed: int
    """SKUs whose delivery failed this pass (they stay pending, in order)."""
    woken: int = 0
    """Backordered orders signalled that a SKU they wait for is available again."""


@dataclass
class DeliverNoticesResult:
    delivered: int
    """Notices the selling channel accepted (shipment confirmed, with tracking where there is one)."""
    failed: int
    """Notices refused (kept, attempts + 1) or met by a channel that is down (kept as they were)."""
    skipped: int
    """Notices closed because no confirmer is configured for their channel ("channel not connected")."""
    deferred: int = 0
    """Notices not tried this pass: their channel was down, throttled us, or refused them recently."""


@dataclass
class OutboxPassResult:
    """One stock-feed pass over every outbox (OutboxActivities.deliver_outboxes)."""

    stock: PublishStockResult
    shipments: DeliverNoticesResult
    cancellations: DeliverNoticesResult


@dataclass
class PullChannelInput:
    channel: str
    """A pulled channel (bol, amazon) whose credentials the worker has."""
    max_pages: int = 20
    """Pages taken in one run at most; the rest waits for the next scheduled run (from the cursor)."""


@dataclass
class PullChannelResult:
    channel: str
    pages: int = 0
    pulled: int = 0
    """Orders the channel handed over (new or changed since the cursor)."""
    started: int = 0
    duplicates: int = 0
    """Already known here (a repeated page, or a change to an order we have)."""
    cancelled: int = 0
    rejected: int = 0
    """Payloads that could not be mapped: kept in the audit (channel_messages) for a person."""
    more: bool = False
    """The channel had more than max_pages: the next run continues from the saved cursor."""
    overtaken: bool = False
    """Another pull moved the cursor first; this one stopped without saving (it would go backwards)."""
    returns: PullReturnsResult | None = None
    """The channel's own returns pulled in the same run (None: a run from before they were)."""


class Outboxes:
    """One stock-feed pass over every outbox (activities.outboxes implements it)."""

    @activity.defn
    async def deliver_outboxes(self, data: StockFeedInput) -> OutboxPassResult:
        raise NotImplementedError


class ChannelPulls:
    """Orders pulled from a channel that does not push them (activities.channel_pull implements it)."""

    @activity.defn
    async def pull_channel_orders(self, data: PullChannelInput) -> PullChannelResult:
        raise NotImplementedError
