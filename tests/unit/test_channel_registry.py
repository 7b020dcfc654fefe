"""Which adapters a channel gets follows from its settings alone: credentials switch the real one on."""

from __future__ import annotations

from config import load_settings
from integrations.channels.amazon_api import AmazonOrderSource, AmazonShipmentConfirmer
from integrations.channels.bol_api import BolCanceller, BolOrderSource, BolShipmentConfirmer, BolStockFeed
from integrations.channels.registry import ListedAs, connect_channels
from integrations.channels.shopify_admin import ShopifyCanceller, ShopifyShipmentConfirmer, ShopifyStockFeed
from integrations.channels.woocommerce_api import (
    WooCommerceCanceller,
    WooCommerceShipmentConfirmer,
    WooCommerceStockFeed,
)
from integrations.stock_feeds import SandboxStockFeed
from persistence.db import create_db_engine, create_session_factory

SESSIONS = create_session_factory(create_db_engine("sqlite://"))  # never connected: adapters only keep it


def test_without_credentials_every_channel_feeds_the_sandbox_and_nothing_is_pulled_or_confirmed():
    wired = connect_channels(load_settings(sandbox=True), SESSIONS)
    assert set(wired.feeds) == {"shopify", "woocommerce", "bol", "amazon", "pos", "webshop"}
    assert all(isinstance(feed, SandboxStockFeed) for feed in wired.feeds.values())
    assert wired.sources == {} and wired.confirmers == {} and wired.cancellers == {}


def test_outside_the_sandbox_a_channel_without_credentials_gets_nothing():
    wired = connect_channels(load_settings(sandbox=False), SESSIONS)
    assert wired.feeds == {} and wired.sources == {} and wired.confirmers == {} and wired.cancellers == {}


def test_credentials_switch_each_channel_to_its_real_adapters():
    settings = load_settings(
        sandbox=False,
        shopify_shop_url="https://shop.example",
        shopify_access_token="shpat_x",
        shopify_location_id="1",
        woocommerce_url="https://woo.example",
        woocommerce_consumer_key="ck",
        woocommerce_consumer_secret="cs",
        bol_client_id="id",
        bol_client_secret="secret",
        amazon_client_id="id",
        amazon_client_secret="secret",
        amazon_refresh_token="Atzr|x",
        amazon_marketplace_ids="A1PA6795UKMFR9, A13V1IB3VIYZZH",
        amazon_seller_id="SELLER",
    )
    wired = connect_channels(settings, SESSIONS)
    try:
        assert isinstance(wired.feeds["shopify"], ShopifyStockFeed)
        assert isinstance(wired.feeds["woocommerce"], WooCommerceStockFeed)
        assert isinstance(wired.feeds["bol"], BolStockFeed)
        assert isinstance(wired.feeds["amazon"], ListedAs)
        assert set(wired.feeds) == {"shopify", "woocommerce", "bol", "amazon"}
        assert isinstance(wired.sources["bol"], BolOrderSource)
        assert isinstance(wired.sources["amazon"], AmazonOrderSource)
        assert isinstance(wired.confirmers["shopify"], ShopifyShipmentConfirmer)
        assert isinstance(wired.confirmers["woocommerce"], WooCommerceShipmentConfirmer)
        assert isinstance(wired.confirmers["bol"], BolShipmentConfirmer)
        assert isinstance(wired.confirmers["amazon"], AmazonShipmentConfirmer)
        assert isinstance(wired.cancellers["shopify"], ShopifyCanceller)
        assert isinstance(wired.cancellers["woocommerce"], WooCommerceCanceller)
        assert isinstance(wired.cancellers["bol"], BolCanceller)
        assert set(wired.cancellers) == {"shopify", "woocommerce", "bol"}  # Amazon has no cancel call
    finally:
        wired.close()


def test_amazon_without_a_seller_id_is_pulled_and_confirmed_but_gets_no_stock():
    settings = load_settings(
        sandbox=False,
        amazon_client_id="id",
        amazon_client_secret="secret",
        amazon_refresh_token="Atzr|x",
        amazon_marketplace_ids="A1PA6795UKMFR9",
    )
    wired = connect_channels(settings, SESSIONS)
    assert set(wired.sources) == {"amazon"} and set(wired.confirmers) == {"amazon"}
    assert "amazon" not in wired.feeds
    wired.close()


def test_a_listing_id_names_the_sku_on_the_channel():
    pushed: list[tuple[str, int, int]] = []

    class Recorder:
        def push(self, sku: str, quantity: int, sequence: int) -> None:
            pushed.append((sku, quantity, sequence))

    feed = ListedAs(Recorder(), {"TEE-M": "AMZ-TEE-M"}.get)
    feed.push("TEE-M", 4, 1)
    feed.push("MUG", 2, 2)
    assert pushed == [("AMZ-TEE-M", 4, 1), ("MUG", 2, 2)]
