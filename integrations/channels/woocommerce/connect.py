"""WooCommerce's adapters from the settings: all of them once the shop URL and REST API keys are set."""

from __future__ import annotations

from config import Settings
from integrations.channels.base import ChannelAdapters
from integrations.channels.woocommerce.canceller import WooCommerceCanceller
from integrations.channels.woocommerce.client import WooCommerceClient
from integrations.channels.woocommerce.shipments import WooCommerceShipmentConfirmer
from integrations.channels.woocommerce.stock_feed import WooCommerceStockFeed


def configured(settings: Settings) -> bool:
    return bool(settings.woocommerce_url and settings.woocommerce_consumer_key and settings.woocommerce_consumer_secret)


def connect(settings: Settings) -> ChannelAdapters | None:
    if not configured(settings):
        return None
    client = WooCommerceClient(
        settings.woocommerce_url, settings.woocommerce_consumer_key, settings.woocommerce_consumer_secret
    )
    return ChannelAdapters(
        feed=WooCommerceStockFeed(client),
        confirmer=WooCommerceShipmentConfirmer(client),
        canceller=WooCommerceCanceller(client),
        close=client.close,
    )
