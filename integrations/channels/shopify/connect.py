"""Shopify's adapters from the settings: all of them once the shop URL and an Admin API token are set."""

from __future__ import annotations

from config import Settings
from integrations.channels.base import ChannelAdapters
from integrations.channels.shopify.canceller import ShopifyCanceller
from integrations.channels.shopify.client import ShopifyAdminClient
from integrations.channels.shopify.fulfilment import ShopifyShipmentConfirmer
from integrations.channels.shopify.stock_feed import ShopifyStockFeed


def configured(settings: Settings) -> bool:
    return bool(settings.shopify_shop_url and settings.shopify_access_token)


def connect(settings: Settings) -> ChannelAdapters | None:
    """The stock feed needs the location whose level it sets (OMS_SHOPIFY_LOCATION_ID)."""
    if not configured(settings):
        return None
    client = ShopifyAdminClient(settings.shopify_shop_url, settings.shopify_access_token)
    location = settings.shopify_location_id
    return ChannelAdapters(
        feed=ShopifyStockFeed(client, location) if location else None,
        confirmer=ShopifyShipmentConfirmer(client),
        canceller=ShopifyCanceller(client),
        close=client.close,
    )
