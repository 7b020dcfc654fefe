"""Bol.com's adapters from the settings: all of them once the client id and secret are set."""

from __future__ import annotations

from config import Settings
from integrations.channels.base import ChannelAdapters
from integrations.channels.bol.canceller import BolCanceller
from integrations.channels.bol.client import BolClient
from integrations.channels.bol.orders import BolOrderSource
from integrations.channels.bol.returns import BolReturnDesk
from integrations.channels.bol.shipments import BolShipmentConfirmer
from integrations.channels.bol.stock_feed import BolStockFeed


def configured(settings: Settings) -> bool:
    return bool(settings.bol_client_id and settings.bol_client_secret)


def connect(settings: Settings) -> ChannelAdapters | None:
    if not configured(settings):
        return None
    client = BolClient(settings.bol_api_url, settings.bol_auth_url, settings.bol_client_id, settings.bol_client_secret)
    return ChannelAdapters(
        feed=BolStockFeed(client),
        source=BolOrderSource(client, fulfilment_method=settings.bol_fulfilment_method),
        confirmer=BolShipmentConfirmer(client),
        canceller=BolCanceller(client),
        returns=BolReturnDesk(client),
        close=client.close,
    )
