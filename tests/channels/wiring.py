"""Connecting every channel from settings in tests, without a database: what the worker hands the
registry (catalogue look-ups, the sandbox feed) replaced by plain stand-ins."""

from __future__ import annotations

from typing import Any

from config import Settings
from integrations.channels.base import SkuResolver, StockFeed
from integrations.channels.registry import REGISTRY, ChannelConnections, RegisteredChannel, connect_channels

EVERY_CHANNEL_CONFIGURED: dict[str, Any] = {
    "shopify_shop_url": "https://shop.example",
    "shopify_access_token": "shpat_x",
    "shopify_location_id": "1",
    "woocommerce_url": "https://woo.example",
    "woocommerce_consumer_key": "ck",
    "woocommerce_consumer_secret": "cs",
    "bol_client_id": "id",
    "bol_client_secret": "secret",
    "amazon_client_id": "id",
    "amazon_client_secret": "secret",
    "amazon_refresh_token": "Atzr|x",
    "amazon_marketplace_ids": "A1PA6795UKMFR9, A13V1IB3VIYZZH",
    "amazon_seller_id": "SELLER",
}
"""Settings that give every channel its credentials (none of them is called)."""


class NoFeed:
    """Stands in for the sandbox feed: these tests never push."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        raise AssertionError(f"{self.channel}: nothing is pushed in this test")


def empty_catalogue(channel: str) -> SkuResolver:
    """A catalogue that lists nothing on any channel."""
    return lambda sku: None


def no_sandbox(channel: str) -> StockFeed:
    return NoFeed(channel)


def connect(settings: Settings, registry: tuple[RegisteredChannel, ...] = REGISTRY) -> ChannelConnections:
    """The registry's wiring with an empty catalogue."""
    return connect_channels(settings, listings=empty_catalogue, sandbox_feed=no_sandbox, registry=registry)
