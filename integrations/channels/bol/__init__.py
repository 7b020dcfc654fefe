"""Bol.com: orders pulled from the Retailer API v10 (`orders`, mapped by `mapping`), stock, shipments
and cancellations out (`client`, `stock_feed`, `shipments`, `canceller`), wired by `connect`; what
it can do is `spec.SPEC`."""

from integrations.channels.bol.mapping import (
    CHANNEL,
    FBB,
    FBR,
    cancellation_requested,
    is_cancelled,
    is_fully_shipped,
    to_order,
)
from integrations.channels.bol.spec import SPEC

__all__ = ["CHANNEL", "FBB", "FBR", "SPEC", "cancellation_requested", "is_cancelled", "is_fully_shipped", "to_order"]
