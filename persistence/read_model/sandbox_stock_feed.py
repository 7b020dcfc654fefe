"""The recording sandbox stock feed: what a channel without a connection would be told, kept as rows.

Until a channel's credentials are set, its available-to-promise goes here (when sandboxes are allowed,
integrations.channels.registry), so the flow can be watched and tested end to end. It is a stock feed
(integrations.channels.base.StockFeed) by shape; persistence does not import integrations.
"""

from __future__ import annotations

from domain.order import CHANNELS
from persistence.db import SessionFactory
from persistence.models import SandboxStockFeedEntry
from persistence.unit_of_work import UnitOfWork


class SandboxStockFeed:
    def __init__(self, channel: str, session_factory: SessionFactory) -> None:
        self.channel = channel
        self._session_factory = session_factory

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        with UnitOfWork(self._session_factory) as uow:
            uow.session.add(SandboxStockFeedEntry(channel=self.channel, sku=sku, quantity=quantity, sequence=sequence))
            uow.commit()


def sandbox_feeds(session_factory: SessionFactory) -> dict[str, SandboxStockFeed]:
    return {channel: SandboxStockFeed(channel, session_factory) for channel in CHANNELS}
