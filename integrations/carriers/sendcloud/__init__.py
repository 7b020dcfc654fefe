"""Sendcloud (API v3): labels announced synchronously at pack, return labels through the Returns
API, both with the carrier's tracking number (`client.py` speaks HTTP, `carrier.py` is the
engine's `Carrier`, `connect.py` builds it from the settings; `webhooks.py` reads the parcel
status webhooks)."""

from integrations.carriers.sendcloud.carrier import SendcloudCarrier
from integrations.carriers.sendcloud.connect import connect

__all__ = ["SendcloudCarrier", "connect"]
