"""Which adapters a channel gets follows from its settings alone: credentials switch the real one on."""

from __future__ import annotations

from config import Settings, load_settings
from integrations.channels.amazon.listings import AmazonListingsStockFeed
from integrations.channels.amazon.orders import AmazonOrderSource
from integrations.channels.amazon.shipments import AmazonShipmentConfirmer
from integrations.channels.bol.canceller import BolCanceller
from integrations.channels.bol.orders import BolOrderSource
from integrations.channels.bol.shipments import BolShipmentConfirmer
from integrations.channels.bol.stock_feed import BolStockFeed
from integrations.channels.listings import ListedAs, OnlyListed
from integrations.channels.registry import ChannelConnections, connect_channels
from integrations.channels.shopify.canceller import ShopifyCanceller
from integrations.channels.shopify.fulfilment import ShopifyShipmentConfirmer
from integrations.channels.shopify.stock_feed import ShopifyStockFeed
from integrations.channels.woocommerce.canceller import WooCommerceCanceller
from integrations.channels.woocommerce.shipments import WooCommerceShipmentConfirmer
from integrations.channels.woocommerce.stock_feed import WooCommerceStockFeed
from persistence.db import create_db_engine, create_session_factory
from persistence.read_model.sandbox_stock_feed import SandboxStockFeed
from tests.channels.wiring import EVERY_CHANNEL_CONFIGURED, connect, empty_catalogue

SESSIONS = create_session_factory(create_db_engine("sqlite://"))  # never connected: adapters only keep it


def sandbox_wired(settings: Settings) -> ChannelConnections:
    """As the worker wires them: the sandbox feed records in the database."""
    return connect_channels(
        settings, listings=empty_catalogue, sandbox_feed=lambda channel: SandboxStockFeed(channel, SESSIONS)
    )


def test_without_credentials_every_channel_feeds_the_sandbox_and_nothing_is_pulled_or_confirmed():
    wired = sandbox_wired(load_settings(sandbox=True))
    assert set(wired.feeds) == {"shopify", "woocommerce", "bol", "amazon", "pos", "webshop"}
    assert all(isinstance(feed, SandboxStockFeed) for feed in wired.feeds.values())
    assert wired.sources == {} and wired.confirmers == {} and wired.cancellers == {}


def test_outside_the_sandbox_a_channel_without_credentials_gets_nothing():
    wired = sandbox_wired(load_settings(sandbox=False))
    assert wired.feeds == {} and wired.sources == {} and wired.confirmers == {} and wired.cancellers == {}


def test_credentials_switch_each_channel_to_its_real_adapters():
    wired = connect(load_settings(sandbox=False, **EVERY_CHANNEL_CONFIGURED))
    try:
        assert isinstance(wired.feeds["shopify"], ShopifyStockFeed)
        assert isinstance(wired.feeds["woocommerce"], WooCommerceStockFeed)
        bol_feed, amazon_feed = wired.feeds["bol"], wired.feeds["amazon"]
        assert isinstance(bol_feed, OnlyListed) and isinstance(bol_feed.feed, BolStockFeed)
        assert isinstance(amazon_feed, ListedAs) and isinstance(amazon_feed.feed, AmazonListingsStockFeed)
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
    wired = connect(settings)
    assert set(wired.sources) == {"amazon"} and set(wired.confirmers) == {"amazon"}
    assert "amazon" not in wired.feeds
    wired.close()


class Recorder:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, int, int]] = []

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        self.pushed.append((sku, quantity, sequence))


def test_a_listing_id_names_the_sku_on_the_channel():
    recorder = Recorder()
    feed = ListedAs(recorder, {"TEE-M": "AMZ-TEE-M"}.get)
    feed.push("TEE-M", 4, 1)
    feed.push("MUG", 2, 2)
    assert recorder.pushed == [("AMZ-TEE-M", 4, 1), ("MUG", 2, 2)]


def test_a_channel_that_needs_listing_ids_is_told_only_of_the_skus_it_lists():
    recorder = Recorder()
    feed = OnlyListed(recorder, {"TEE-M": "6ff736b5-cdd0-4150-8c67-78269ee986f5"}.get)
    feed.push("TEE-M", 7, 1)
    feed.push("NOT-ON-BOL", 5, 2)
    assert recorder.pushed == [("6ff736b5-cdd0-4150-8c67-78269ee986f5", 7, 1)]
