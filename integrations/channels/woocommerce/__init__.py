"""WooCommerce: orders in by signed webhook (`mapping`), stock, shipment notes and cancellations out
through the REST API (`client`, `stock_feed`, `shipments`, `canceller`), wired by `connect`; what
it can do is `spec.SPEC`."""

from integrations.channels.woocommerce.mapping import (
    CHANNEL,
    ORDER_TOPICS,
    cancel_reason,
    is_ping,
    sign,
    to_order,
    verify_signature,
    webhook_action,
)
from integrations.channels.woocommerce.spec import SPEC, WEBHOOK

__all__ = [
    "CHANNEL",
    "ORDER_TOPICS",
    "SPEC",
    "WEBHOOK",
    "cancel_reason",
    "is_ping",
    "sign",
    "to_order",
    "verify_signature",
    "webhook_action",
]
