"""What a channel can do, declared once in its own folder (`integrations/channels/<name>/spec.py`).

Everything that used to keep its own list of channel names reads the spec instead: the registry
(which adapters to build, how stock names a SKU), the shipment and cancellation notices (who is told
what), the pull schedules (who is polled, how many pages a run takes) and the webhook routes (which
header carries the signature). A flag here is the one switch; nothing else decides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Intake(StrEnum):
    """How the channel's orders reach us."""

    WEBHOOK = "webhook"
    """The channel pushes each order to `POST /webhooks/<name>`, signed."""
    PULLED = "pulled"
    """We fetch new and changed orders from the channel on a Temporal Schedule (ops.channel_schedules)."""
    CANONICAL = "canonical"
    """The channel sends our canonical order to `POST /orders` with its own key (web shop, POS)."""


class ListingIds(StrEnum):
    """How the channel's stock feed names a SKU (the catalogue's listings, `PUT /catalogue/{sku}`)."""

    OUR_SKU = "our_sku"
    """The channel lists our SKUs as they are."""
    REQUIRED = "required"
    """By the catalogue's listing id only (a bol.com offer id): a SKU without one is not sold there, skipped."""
    PREFERRED = "preferred"
    """By the listing id when the catalogue has one (an Amazon SellerSKU that differs), else our SKU."""


class SignatureScheme(StrEnum):
    """How a webhook body is signed (integrations.channels.signatures)."""

    BASE64_HMAC_SHA256 = "base64-hmac-sha256"
    """Base64 of the HMAC-SHA256 of the raw body with the shared secret (Shopify, WooCommerce)."""


@dataclass(frozen=True)
class WebhookSpec:
    signature_header: str
    """The header carrying the body's signature."""
    topic_header: str
    """The header naming what the delivery is about (not signed: it only says which deliveries we read)."""
    default_topic: str
    """The topic of a delivery without that header."""
    scheme: SignatureScheme = SignatureScheme.BASE64_HMAC_SHA256


@dataclass(frozen=True)
class ChannelSpec:
    """One channel's capabilities. Every flag defaults to "no": a channel declares what it does."""

    name: str
    """As in order ids (`order-<name>-<external id>`): one of domain.order.CHANNELS."""
    intake: Intake
    webhook: WebhookSpec | None = None
    """Webhook channels: how their deliveries are signed and labelled."""
    pull_pages: int = 0
    """Pulled channels: at most this many pages per scheduled run (room for the channel's rate limit)."""
    confirms_shipments: bool = False
    """The channel sold the order itself and expects to hear, with carrier and tracking, that it left."""
    confirms_collections: bool = False
    """It can also be told of a click & collect handover (no carrier, no tracking)."""
    cancels: bool = False
    """It has a cancel call: an order we cancel (or a cancellation it asked us to confirm) is sent there."""
    cancel_by_hand: str = ""
    """It has no cancel call but must hear of a cancel: what the order's timeline tells a person to do."""
    cancel_touches_stock: bool = False
    """It changes its own stock figure when it cancels, so ours is sent again after."""
    cancels_items: bool = False
    """Its cancel call takes single items: an order edit that removes lines is sent there too."""
    listing_ids: ListingIds = ListingIds.OUR_SKU

    def __post_init__(self) -> None:
        if (self.intake is Intake.PULLED) != (self.pull_pages > 0):
            raise ValueError(f"{self.name}: a pulled channel, and only one, takes pull_pages > 0")
        if (self.intake is Intake.WEBHOOK) != (self.webhook is not None):
            raise ValueError(f"{self.name}: a webhook channel, and only one, declares its webhook")
        if self.confirms_collections and not self.confirms_shipments:
            raise ValueError(f"{self.name}: confirms collections but not shipments")
        if self.cancels and self.cancel_by_hand:
            raise ValueError(f"{self.name}: cancels through its API or by hand, not both")
        if self.cancels_items and not self.cancels:
            raise ValueError(f"{self.name}: only a channel we cancel on can cancel single items")
        if self.cancel_touches_stock and not self.cancels:
            raise ValueError(f"{self.name}: only a channel we cancel on can touch its stock as it cancels")
