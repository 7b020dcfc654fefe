"""WooCommerce cancellations out: status `cancelled` on an order we cancelled (`PUT /orders/<id>`)."""

from __future__ import annotations

import logging

from domain.channel_notices import CancellationNotice
from integrations.channels.woocommerce.client import WooCommerceClient
from integrations.channels.woocommerce.shipments import FINAL_STATUSES, order_path

log = logging.getLogger(__name__)


class WooCommerceCanceller:
    """ChannelCanceller: status `cancelled` (`PUT /orders/<id>`), unless the order already ended
    (completed, cancelled, refunded, failed, trash), as the shipment confirmer does: a merchant's
    own ending stands, and a retried delivery finds the order cancelled and does nothing.

    WooCommerce puts the units of a cancelled order back on its own stock (when the order had
    reduced it), which our stock feed must then correct (the spec's `cancel_touches_stock`).
    Setting the status refunds nothing: money WooCommerce's gateway took stays for the merchant to refund there.
    """

    def __init__(self, client: WooCommerceClient) -> None:
        self._client = client

    def cancel_order(self, notice: CancellationNotice) -> None:
        path = order_path(notice.order_external_id)
        order = self._client.call("GET", path)
        status = order.get("status") if isinstance(order, dict) else None
        if status in FINAL_STATUSES:
            log.info("woocommerce order %s already ended (%s): not cancelled", notice.order_external_id, status)
            return
        self._client.call("PUT", path, body={"status": "cancelled"})
