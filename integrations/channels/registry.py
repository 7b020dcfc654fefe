"""The one place channels are wired: one entry per channel, its spec and what its folder offers.

A channel talks to its real service once its credentials are set (the base URL setting may point at
a sandbox; the adapters cannot tell): its folder's `connect` builds the adapters from the settings,
and its spec decides which of them the engine uses (a source only for a pulled channel, a confirmer
only for one that confirms shipments, a canceller only for one that cancels) and how its stock feed
names a SKU. Without credentials, a channel's stock goes to the recording sandbox feed when sandboxes
are allowed, and nothing is pulled, confirmed or cancelled.

What needs the database (the catalogue's listing ids, the sandbox feed's rows) is handed in by the
composition root (worker.py): integrations never import persistence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from config import Settings
from domain.order import Order
from integrations.channels import amazon, bol, pos, shopify, webshop, woocommerce
from integrations.channels.amazon import connect as amazon_connect
from integrations.channels.base import (
    ChannelAdapters,
    ChannelCanceller,
    OrderSource,
    ReturnDesk,
    ShipmentConfirmer,
    SkuResolver,
    StockFeed,
)
from integrations.channels.bol import connect as bol_connect
from integrations.channels.listings import named_by
from integrations.channels.shopify import connect as shopify_connect
from integrations.channels.spec import ChannelSpec, Intake
from integrations.channels.woocommerce import connect as woocommerce_connect

Connect = Callable[[Settings], ChannelAdapters | None]
"""A channel's adapters from the settings; None when its credentials are not set."""
PulledMapper = Callable[[dict[str, Any], SkuResolver], Order]
"""A pulled channel's payload → the canonical order (its `mapping.to_order`)."""
ListingLookup = Callable[[str], SkuResolver]
"""A channel → its catalogue look-up: our SKU → the channel's listing id, or None."""
SandboxFeed = Callable[[str], StockFeed]
"""A channel → a stock feed that records what the channel would be told (development, tests, demos)."""


@dataclass(frozen=True)
class RegisteredChannel:
    spec: ChannelSpec
    connect: Connect | None = None
    """None: nothing to connect to (the channel sends canonical orders and is sent nothing but stock)."""
    configured: Callable[[Settings], bool] | None = None
    """Whether the settings hold the channel's credentials (what `connect` needs to build anything)."""
    address_setting: str = ""
    """The setting naming the service's address (reported at start: which host the engine talks to)."""
    map_pulled: PulledMapper | None = None
    """Pulled channels: how a pulled payload becomes the canonical order."""

    def __post_init__(self) -> None:
        if (self.spec.intake is Intake.PULLED) != (self.map_pulled is not None):
            raise ValueError(f"{self.spec.name}: a pulled channel, and only one, registers its mapping")


REGISTRY: tuple[RegisteredChannel, ...] = (
    RegisteredChannel(
        shopify.SPEC,
        connect=shopify_connect.connect,
        configured=shopify_connect.configured,
        address_setting="shopify_shop_url",
    ),
    RegisteredChannel(
        woocommerce.SPEC,
        connect=woocommerce_connect.connect,
        configured=woocommerce_connect.configured,
        address_setting="woocommerce_url",
    ),
    RegisteredChannel(
        bol.SPEC,
        connect=bol_connect.connect,
        configured=bol_connect.configured,
        address_setting="bol_api_url",
        map_pulled=bol.to_order,
    ),
    RegisteredChannel(
        amazon.SPEC,
        connect=amazon_connect.connect,
        configured=amazon_connect.configured,
        address_setting="amazon_spapi_url",
        map_pulled=amazon.to_order,
    ),
    RegisteredChannel(pos.SPEC),
    RegisteredChannel(webshop.SPEC),
)

SPECS: Mapping[str, ChannelSpec] = MappingProxyType({entry.spec.name: entry.spec for entry in REGISTRY})
"""Every channel's spec by name: what the notices, the schedules and the activities read."""
PULLED_MAPPERS: Mapping[str, PulledMapper] = MappingProxyType(
    {entry.spec.name: entry.map_pulled for entry in REGISTRY if entry.map_pulled is not None}
)


def pulled(specs: Mapping[str, ChannelSpec] = SPECS) -> tuple[ChannelSpec, ...]:
    """The channels whose orders we fetch on a schedule (the others push webhooks or call POST /orders)."""
    return tuple(spec for spec in specs.values() if spec.intake is Intake.PULLED)


@dataclass
class ChannelConnections:
    feeds: dict[str, StockFeed] = field(default_factory=dict)
    confirmers: dict[str, ShipmentConfirmer] = field(default_factory=dict)
    cancellers: dict[str, ChannelCanceller] = field(default_factory=dict)
    sources: dict[str, OrderSource] = field(default_factory=dict)
    returns: dict[str, ReturnDesk] = field(default_factory=dict)
    """Channels whose own returns are pulled and handled back (bol.com's Returns API)."""
    closers: list[Callable[[], None]] = field(default_factory=list)

    def take(self, spec: ChannelSpec, adapters: ChannelAdapters, listings: ListingLookup) -> None:
        """One channel's adapters, as many of them as its spec uses."""
        if adapters.close is not None:
            self.closers.append(adapters.close)
        if adapters.feed is not None:
            self.feeds[spec.name] = named_by(spec.listing_ids, adapters.feed, listings(spec.name))
        if adapters.source is not None and spec.intake is Intake.PULLED:
            self.sources[spec.name] = adapters.source
        if adapters.confirmer is not None and spec.confirms_shipments:
            self.confirmers[spec.name] = adapters.confirmer
        if adapters.canceller is not None and spec.cancels:
            self.cancellers[spec.name] = adapters.canceller
        if adapters.returns is not None and spec.intake is Intake.PULLED:
            self.returns[spec.name] = adapters.returns

    def close(self) -> None:
        for close in self.closers:
            close()


def connect_channels(
    settings: Settings,
    *,
    listings: ListingLookup,
    sandbox_feed: SandboxFeed,
    registry: tuple[RegisteredChannel, ...] = REGISTRY,
) -> ChannelConnections:
    """Every channel's adapters the settings allow; the caller closes them at shutdown."""
    wired = ChannelConnections()
    for entry in registry:
        adapters = entry.connect(settings) if entry.connect is not None else None
        if adapters is not None:
            wired.take(entry.spec, adapters, listings)
    if settings.sandbox_enabled:
        for entry in registry:
            wired.feeds.setdefault(entry.spec.name, sandbox_feed(entry.spec.name))
    return wired
