"""The one place channels are wired: which adapter each channel uses, built from the settings.

A channel talks to its real service once its credentials are set (the base URL setting may point
at a sandbox; the adapters cannot tell). Without credentials, a channel's stock goes to the
recording sandbox feed when sandboxes are allowed, and nothing is pulled, confirmed or cancelled.
Amazon has no canceller: the Orders API has no cancel call for seller-fulfilled orders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from config import Settings
from domain.order import CHANNELS
from integrations.channels.amazon_api import (
    AmazonClient,
    AmazonListingsStockFeed,
    AmazonOrderSource,
    AmazonShipmentConfirmer,
)
from integrations.channels.base import ChannelCanceller, OrderSource, ShipmentConfirmer
from integrations.channels.bol_api import (
    BolCanceller,
    BolClient,
    BolOrderSource,
    BolShipmentConfirmer,
    BolStockFeed,
)
from integrations.channels.shopify_admin import (
    ShopifyAdminClient,
    ShopifyCanceller,
    ShopifyShipmentConfirmer,
    ShopifyStockFeed,
)
from integrations.channels.woocommerce_api import (
    WooCommerceCanceller,
    WooCommerceClient,
    WooCommerceShipmentConfirmer,
    WooCommerceStockFeed,
)
from integrations.stock_feeds import SandboxStockFeed, StockFeed
from persistence.catalogue import listing_lookup
from persistence.db import SessionFactory

PULLED_CHANNELS = ("bol", "amazon")
"""Channels whose orders we fetch on a schedule (the others push webhooks or call POST /orders)."""


@dataclass
class ChannelConnections:
    feeds: dict[str, StockFeed] = field(default_factory=dict)
    confirmers: dict[str, ShipmentConfirmer] = field(default_factory=dict)
    cancellers: dict[str, ChannelCanceller] = field(default_factory=dict)
    sources: dict[str, OrderSource] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


class ListedAs:
    """A stock feed that names each SKU the way the channel lists it (the catalogue's listing id,
    e.g. an Amazon SellerSKU that differs from ours), falling back to our SKU."""

    def __init__(self, feed: StockFeed, listing_for: Callable[[str], str | None]) -> None:
        self._feed = feed
        self._listing_for = listing_for

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        self._feed.push(self._listing_for(sku) or sku, quantity, sequence)


def marketplace_ids(settings: Settings) -> list[str]:
    return [mid.strip() for mid in settings.amazon_marketplace_ids.split(",") if mid.strip()]


def shopify_configured(settings: Settings) -> bool:
    return bool(settings.shopify_shop_url and settings.shopify_access_token)


def woocommerce_configured(settings: Settings) -> bool:
    return bool(settings.woocommerce_url and settings.woocommerce_consumer_key and settings.woocommerce_consumer_secret)


def bol_configured(settings: Settings) -> bool:
    return bool(settings.bol_client_id and settings.bol_client_secret)


def amazon_configured(settings: Settings) -> bool:
    return bool(
        settings.amazon_client_id
        and settings.amazon_client_secret
        and settings.amazon_refresh_token
        and marketplace_ids(settings)
    )


def connect_channels(settings: Settings, session_factory: SessionFactory) -> ChannelConnections:
    """Every channel's adapters the settings allow; the caller closes them at shutdown."""
    wired = ChannelConnections()
    if shopify_configured(settings):
        shopify = ShopifyAdminClient(settings.shopify_shop_url, settings.shopify_access_token)
        wired.closers.append(shopify.close)
        if settings.shopify_location_id:
            wired.feeds["shopify"] = ShopifyStockFeed(shopify, settings.shopify_location_id)
        wired.confirmers["shopify"] = ShopifyShipmentConfirmer(shopify)
        wired.cancellers["shopify"] = ShopifyCanceller(shopify)
    if woocommerce_configured(settings):
        woo = WooCommerceClient(
            settings.woocommerce_url, settings.woocommerce_consumer_key, settings.woocommerce_consumer_secret
        )
        wired.closers.append(woo.close)
        wired.feeds["woocommerce"] = WooCommerceStockFeed(woo)
        wired.confirmers["woocommerce"] = WooCommerceShipmentConfirmer(woo)
        wired.cancellers["woocommerce"] = WooCommerceCanceller(woo)
    if bol_configured(settings):
        bol = BolClient(settings.bol_api_url, settings.bol_auth_url, settings.bol_client_id, settings.bol_client_secret)
        wired.closers.append(bol.close)
        wired.feeds["bol"] = BolStockFeed(bol, listing_lookup(session_factory, "bol"))
        wired.confirmers["bol"] = BolShipmentConfirmer(bol)
        wired.cancellers["bol"] = BolCanceller(bol)
        wired.sources["bol"] = BolOrderSource(bol, fulfilment_method=settings.bol_fulfilment_method)
    if amazon_configured(settings):
        markets = marketplace_ids(settings)
        amazon = AmazonClient(
            settings.amazon_spapi_url,
            settings.amazon_lwa_url,
            settings.amazon_client_id,
            settings.amazon_client_secret,
            settings.amazon_refresh_token,
        )
        wired.closers.append(amazon.close)
        wired.sources["amazon"] = AmazonOrderSource(amazon, markets)
        wired.confirmers["amazon"] = AmazonShipmentConfirmer(amazon, markets[0])
        if settings.amazon_seller_id:
            listings = AmazonListingsStockFeed(
                amazon,
                settings.amazon_seller_id,
                markets,
                op="replace" if settings.amazon_listings_op == "replace" else "merge",
            )
            wired.feeds["amazon"] = ListedAs(listings, listing_lookup(session_factory, "amazon"))
    if settings.sandbox_enabled:
        for channel in CHANNELS:
            wired.feeds.setdefault(channel, SandboxStockFeed(channel, session_factory))
    return wired
