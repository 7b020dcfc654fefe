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
from integrations.channels.shopify.order_edits import EDIT_TOPICS, NotAnOrderEdit, ShopifyOrderEdit, to_order_edit
from integrations.channels.shopify.spec import SPEC, WEBHOOK

__all__ = [
    "CANCEL_TOPICS",
    "CHANNEL",
    "EDIT_TOPICS",
    "ORDER_TOPICS",
    "SPEC",
    "WEBHOOK",
    "NotAnOrderEdit",
    "ShopifyOrderEdit",
    "cancellation",
    "sign",
    "to_order",
    "to_order_edit",
    "verify_signature",
]
