"""What the channel that sold an order must hear from us: that goods left, or that the order was cancelled.

The notices are written to an outbox in the transaction that ships or cancels (persistence) and handed
to the channel's confirmer or canceller later (integrations.channels); both read these shapes, so they
live here, below either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.cancellation import CancelReason


@dataclass(frozen=True)
class ShippedLine:
    sku: str
    quantity: int
    external_line_id: str = ""
    """The channel's own line id (Shopify line_item id, Bol orderItemId, Amazon OrderItemId)."""


@dataclass(frozen=True)
class ShipmentNotice:
    order_external_id: str
    shipment_id: str
    """Our shipment id: a stable reference the channel may show, and an idempotency hint."""
    lines: tuple[ShippedLine, ...]
    carrier: str
    tracking_number: str
    shipped_at: datetime
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CancellationNotice:
    order_external_id: str
    line_ids: tuple[str, ...]
    """The channel's own line ids to cancel (bol orderItemIds); whole-order channels ignore them."""
    reason_kind: CancelReason
    reason: str
    """In words, for the people reading the channel's back office (a staff note, not the customer)."""
    cancelled_at: datetime | None = None
