"""Sendcloud from the settings: a carrier when both API keys are set, else None (staff type the
carrier and tracking, or the development sandbox warehouse makes them up)."""

from __future__ import annotations

from config import Settings
from integrations.carriers.sendcloud.carrier import SendcloudCarrier
from integrations.carriers.sendcloud.client import SendcloudClient


def connect(settings: Settings) -> SendcloudCarrier | None:
    if not (settings.sendcloud_public_key and settings.sendcloud_secret_key):
        return None
    client = SendcloudClient(settings.sendcloud_api_url, settings.sendcloud_public_key, settings.sendcloud_secret_key)
    return SendcloudCarrier(
        client, shipping_option=settings.sendcloud_shipping_option, return_option=settings.sendcloud_return_option
    )
