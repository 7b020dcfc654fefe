"""What Shopify does: orders by signed webhook; stock, fulfilments (collections too) and cancels out."""

from __future__ import annotations

from integrations.channels.spec import ChannelSpec, Intake, WebhookSpec

WEBHOOK = WebhookSpec(
    signature_header="X-Shopify-Hmac-Sha256", topic_header="X-Shopify-Topic", default_topic="orders/create"
)
SPEC = ChannelSpec(
    name="shopify",
    intake=Intake.WEBHOOK,
    webhook=WEBHOOK,
    confirms_shipments=True,
    confirms_collections=True,  # the collection closes the fulfillment order
    cancels=True,  # orderCancel with restock false: our stock feed sets its figure absolutely
)
