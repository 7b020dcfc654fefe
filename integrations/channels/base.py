"""What every channel adapter offers, whatever the channel: orders in, stock out, status out.

An adapter module (one per channel) provides some of:
- `to_order(payload, resolve) -> Order`: map the channel's own documented order JSON (as parsed with
  `parse_float=Decimal`) to the canonical order. Identifiers the channel uses instead of our SKU
  (an EAN, a SellerSKU) go through `resolve`; when it answers None the line keeps a stand-in SKU
  such as ``ean:8712345678901`` that no location stocks, so the order is held, never dropped.
- an `OrderSource` (pulled channels): one page of new or changed orders after a cursor.
- a `StockFeed` (integrations.stock_feeds): tell the channel how many it may sell.
- a `ShipmentConfirmer`: tell the channel a shipment left, with carrier and tracking.
- a `ChannelCanceller`: tell the channel an order of its own was cancelled here (or confirm a
  customer's cancellation request the channel forwarded).

Clients raise the errors below, so the activities around them decide retry and backoff in one
place and nothing channel-specific leaks into workflows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, Field

from domain.cancellation import CancelReason
from domain.times import in_utc

SkuResolver = Callable[[str], str | None]
"""A channel's identifier for a product (EAN, SellerSKU, ...) → our SKU, or None when unknown."""


Amount = Annotated[Decimal, Field(max_digits=18, allow_inf_nan=False)]
"""A channel's decimal amount in major units as a model field. Bounded, so "1e999999" is a validation
error rather than an integer with a million digits or a decimal.Overflow in the mapper's arithmetic;
MoneyError refuses what is still too large in minor units (domain.money.MAX_DIGITS)."""


def _fits_64_bits(value: int) -> int:
    # A validator, not ge/le: those would override a field's own Field(ge=0) or Field(gt=0).
    if not -(2**63) <= value < 2**63:
        raise ValueError("a whole number larger than 64 bits hold")
    return value


Int64 = Annotated[int, AfterValidator(_fits_64_bits)]
"""A channel's id or count as a model field. JSON's 1E+999999 is a whole number to pydantic; bounded
to what a 64-bit column holds, it is a validation error, not a million-digit int that str() refuses."""

ChannelTime = Annotated[datetime, AfterValidator(in_utc)]
"""A channel's timestamp as a model field: in UTC (no offset: UTC), and a validation error, never an
OverflowError later, when UTC cannot hold it."""


def same_sku(identifier: str) -> str | None:
    """The resolver for channels whose product identifier is our SKU."""
    return identifier or None


def retry_after_seconds(header: str | None, *, now: datetime | None = None) -> float | None:
    """An HTTP Retry-After as seconds to wait: delta-seconds ("2", "2.0") or an HTTP date (a date
    in the past: at once); None when absent or unreadable. Every channel client reads it here."""
    if not header:
        return None
    text = header.strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        pass
    else:
        return max(float(seconds), 0.0) if seconds.is_finite() else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


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
    confirm_cancel: tuple[str, ...] = ()
    """Line ids whose cancellation the customer requested and the channel expects the seller to
    confirm (bol `cancellationRequest`): once cancelled here, the channel is told for these lines."""


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


@dataclass(frozen=True)
class CancellationNotice:
    order_external_id: str
    line_ids: tuple[str, ...]
    """The channel's own line ids to cancel (bol orderItemIds); whole-order channels ignore them."""
    reason_kind: CancelReason
    reason: str
    """In words, for the people reading the channel's back office (a staff note, not the customer)."""
    cancelled_at: datetime | None = None


class ChannelCanceller(Protocol):
    touches_stock: bool
    """The channel changes its own stock figure for the order's products when it cancels
    (WooCommerce puts the units back, bol.com zeroes the offer): our figure is sent again after."""

    def cancel_order(self, notice: CancellationNotice) -> None:
        """Cancel the order (or its lines) on the channel; nothing when the channel already has."""
        ...
