"""Where available-to-promise goes: one stock feed per channel.

The real adapters (Shopify inventory levels, WooCommerce stock quantity, Bol.com offer stock,
Amazon listings quantity) come with the channel work; until a channel has one, its sandbox feed
records what it was sent, so the flow can be watched and tested end to end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from domain.order import CHANNELS
from persistence.db import SessionFactory
from persistence.models import SandboxStockFeedEntry
from persistence.unit_of_work import UnitOfWork


class StockFeed(Protocol):
    def push(self, sku: str, quantity: int, sequence: int) -> None:
        """Tell the channel it may sell `quantity` of `sku`; `sequence` only ever grows per SKU.
        Raises on failure (the caller retries, in order)."""


class SandboxStockFeed:
    def __init__(self, channel: str, session_factory: SessionFactory) -> None:
        self.channel = channel
        self._session_factory = session_factory

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        with UnitOfWork(self._session_factory) as uow:
            uow.session.add(SandboxStockFeedEntry(channel=self.channel, sku=sku, quantity=quantity, sequence=sequence))
            uow.commit()


def sandbox_feeds(session_factory: SessionFactory) -> Mapping[str, StockFeed]:
    return {channel: SandboxStockFeed(channel, session_factory) for channel in CHANNELS}
