"""Amazon's adapters from the settings: orders and shipments once the LWA credentials and marketplaces
are set; stock too once the seller id is (the Listings Items API names the seller)."""

from __future__ import annotations

from typing import Literal

from config import Settings
from integrations.channels.amazon.client import AmazonClient
from integrations.channels.amazon.listings import AmazonListingsStockFeed
from integrations.channels.amazon.orders import AmazonOrderSource
from integrations.channels.amazon.shipments import AmazonShipmentConfirmer
from integrations.channels.base import ChannelAdapters


def marketplace_ids(settings: Settings) -> list[str]:
    return [mid.strip() for mid in settings.amazon_marketplace_ids.split(",") if mid.strip()]


def configured(settings: Settings) -> bool:
    return bool(
        settings.amazon_client_id
        and settings.amazon_client_secret
        and settings.amazon_refresh_token
        and marketplace_ids(settings)
    )


def connect(settings: Settings) -> ChannelAdapters | None:
    if not configured(settings):
        return None
    markets = marketplace_ids(settings)
    client = AmazonClient(
        settings.amazon_spapi_url,
        settings.amazon_lwa_url,
        settings.amazon_client_id,
        settings.amazon_client_secret,
        settings.amazon_refresh_token,
    )
    feed = None
    if settings.amazon_seller_id:
        op: Literal["replace", "merge"] = "replace" if settings.amazon_listings_op == "replace" else "merge"
        feed = AmazonListingsStockFeed(client, settings.amazon_seller_id, markets, op=op)
    return ChannelAdapters(
        feed=feed,
        source=AmazonOrderSource(client, markets),
        confirmer=AmazonShipmentConfirmer(client, markets[0]),
        close=client.close,
    )
