"""Shopify: orders in by signed webhook (`mapping`), stock, fulfilments and cancellations out through
the GraphQL Admin API (`client`, `stock_feed`, `fulfilment`, `canceller`), wired by `connect`;
what it can do is `spec.SPEC`."""

from integrations.channels.shopify.mapping import (
    CANCEL_TOPICS,
    CHANNEL,
    ORDER_TOPICS,
    cancellation,
    sign,
    to_order,
    verify_signature,
)
from integrations.channels.shopify.spec import SPEC, WEBHOOK

__all__ = [
    "CANCEL_TOPICS",
    "CHANNEL",
    "ORDER_TOPICS",
    "SPEC",
    "WEBHOOK",
    "cancellation",
    "sign",
    "to_order",
    "verify_signature",
]
