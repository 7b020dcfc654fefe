"""What WooCommerce does: orders by signed webhook; stock, shipment notes (collections too) and cancels out."""

from __future__ import annotations

from integrations.channels.spec import ChannelSpec, Intake, WebhookSpec

WEBHOOK = WebhookSpec(
    signature_header="X-WC-Webhook-Signature", topic_header="X-WC-Webhook-Topic", default_topic="order.created"
)
SPEC = ChannelSpec(
    name="woocommerce",
    intake=Intake.WEBHOOK,
    webhook=WEBHOOK,
    confirms_shipments=True,
    confirms_collections=True,  # a note, and the order completed once everything is out
    cancels=True,
    cancel_touches_stock=True,  # a cancelled order's units go back on WooCommerce's own stock
)
