"""What every channel adapter offers, whatever the channel: orders in, stock out, status out.

A channel's folder (`integrations/channels/<name>/`) provides some of:
- `to_order(payload, resolve) -> Order` (its `mapping` module): map the channel's own documented order
  JSON (as parsed with `parse_float=Decimal`) to the canonical order. Identifiers the channel uses
  instead of our SKU (an EAN, a SellerSKU) go through `resolve`; when it answers None the line keeps a
  stand-in SKU such as ``ean:8712345678901`` that no location stocks, so the order is held, never dropped.
- an `OrderSource` (pulled channels): one page of new or changed orders after a cursor.
- a `StockFeed`: tell the channel how many it may sell.
- a `ShipmentConfirmer`: tell the channel a shipment left, with carrier and tracking.
- a `ChannelCanceller`: tell the channel an order of its own was cancelled here (or confirm a
  customer's cancellation request the channel forwarded).
Its `connect` builds them from the settings as `ChannelAdapters`; which of them the engine uses is
the channel's spec's to say (integrations.channels.registry). Every call fails with one of
integrations.channels.errors, so the activities decide retry and backoff in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, Field

from contracts.returns import ReturnRequest
from domain.channel_notices import CancellationNotice, ShipmentNotice
from domain.marketplace_returns import Handling
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
    cancel_items: tuple[str, ...] = ()
    """Not every item, only these: the customer asked the channel to cancel them (bol
    `cancellationRequest`) on an order that goes on: an edit by the channel (services.intake)."""


@dataclass(frozen=True)
class PullPage:
    orders: list[PulledOrder]
    cursor: str | None
    """Opaque position to pass to the next pull; stored only after this page's orders are started,
    so a restart repeats at most one page (duplicates are harmless: order ids dedupe) and misses none."""
    more: bool = False
    """True when the channel has more right now: pull again at once instead of waiting for the schedule."""


@dataclass(frozen=True)
class PulledReturn:
    """One return item a channel lists (bol: a `ReducedReturnItem`), as the channel sent it."""

    external_rma: str
    """The channel's id of the item's return (bol's rmaId): what it is handled back by."""
    external_return_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ReturnPage:
    items: list[PulledReturn]
    more: bool
    """The page was not empty: the next page may hold more."""


class ReturnDesk(Protocol):
    """A channel's own returns (bol.com's Returns API): listed for us to open here, and handled back
    there once the goods were received (what to send: domain.marketplace_returns)."""

    def returns_page(self, page: int) -> ReturnPage: ...

    def map_return(self, payload: dict[str, Any], resolve: SkuResolver) -> tuple[str, ReturnRequest]:
        """Our order id and the return request; pydantic.ValidationError or InvalidOrder when it cannot be."""
        ...

    def handle(self, external_rma: str, handling: Handling) -> None: ...


class StockFeed(Protocol):
    def push(self, sku: str, quantity: int, sequence: int) -> None:
        """Tell the channel it may sell `quantity` of `sku`; `sequence` only ever grows per SKU.
        Raises on failure (the caller retries, in order)."""


class OrderSource(Protocol):
    def pull(self, cursor: str | None) -> PullPage: ...


class ShipmentConfirmer(Protocol):
    def confirm_shipment(self, notice: ShipmentNotice) -> None: ...


class ChannelCanceller(Protocol):
    def cancel_order(self, notice: CancellationNotice) -> None:
        """Cancel the order (or its lines) on the channel; nothing when the channel already has."""
        ...


@dataclass(frozen=True)
class ChannelAdapters:
    """What one channel's `connect` built from the settings (None: not available there)."""

    feed: StockFeed | None = None
    source: OrderSource | None = None
    confirmer: ShipmentConfirmer | None = None
    canceller: ChannelCanceller | None = None
    returns: ReturnDesk | None = None
    close: Callable[[], None] | None = None
    """Closes the channel's HTTP client at shutdown."""
