"""What every channel adapter offers, whatever the channel: orders in, stock out, status out.

An adapter module (one per channel) provides some of:
- `to_order(payload, resolve) -> Order`: map the channel's own documented order JSON (as parsed with
  `parse_float=Decimal`) to the canonical order. Identifiers the channel uses instead of our SKU
  (an EAN, a SellerSKU) go through `resolve`; when it answers None the line keeps a stand-in SKU
  such as ``ean:8712345678901`` that no location stocks, so the order is held, never dropped.
- an `OrderSource` (pulled channels): one page of new or changed orders after a cursor.
- a `StockFeed` (integrations.stock_feeds): tell the channel how many it may sell.
- a `ShipmentConfirmer`: tell the channel a shipment left, with carrier and tracking.

Clients raise the errors below, so the activities around them decide retry and backoff in one
place and nothing channel-specific leaks into workflows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

SkuResolver = Callable[[str], str | None]
"""A channel's identifier for a product (EAN, SellerSKU, ...) → our SKU, or None when unknown."""


def same_sku(identifier: str) -> str | None:
    """The resolver for channels whose product identifier is our SKU."""
    return identifier or None


class ChannelError(Exception):
    """A channel call failed."""


class ChannelUnavailable(ChannelError):
    """Network error, timeout or 5xx: try again later with backoff."""


class ChannelRateLimited(ChannelUnavailable):
    """429 (or the channel's own throttling answer): wait at least `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelAuthFailed(ChannelError):
    """Credentials refused (401/403 after a fresh token): a person must fix the settings."""


class ChannelRejected(ChannelError):
    """The channel refused the request itself (4xx other than 401/403/429): retrying cannot help."""


@dataclass(frozen=True)
class PulledOrder:
    external_id: str
    """The channel's order id (becomes `order-<channel>-<external_id>`)."""
    payload: dict[str, Any]
    """Everything `to_order` needs (for Amazon: the order plus its items), as the channel sent it."""
    cancelled: bool = False
    """The channel cancelled it: cancel here (the saga), starting it first if it is new to us."""


@dataclass(frozen=True)
class PullPage:
    orders: list[PulledOrder]
    cursor: str | None
    """Opaque position to pass to the next pull; stored only after this page's orders are started,
    so a restart repeats at most one page (duplicates are harmless: order ids dedupe) and misses none."""
    more: bool = False
    """True when the channel has more right now: pull again at once instead of waiting for the schedule."""


class OrderSource(Protocol):
    def pull(self, cursor: str | None) -> PullPage: ...


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


class ShipmentConfirmer(Protocol):
    def confirm_shipment(self, notice: ShipmentNotice) -> None: ...
