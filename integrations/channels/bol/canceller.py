"""Bol.com cancellations out: `PUT /retailer/orders/cancellation` for the items still open."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from domain.cancellation import CancelReason
from domain.channel_notices import CancellationNotice
from integrations.channels.bol.client import BolClient
from integrations.channels.errors import ChannelRejected

log = logging.getLogger("oms.channels.bol")

# Bol's cancellation reason codes (v10 `reasonCode`) for ours. REQUESTED_BY_CUSTOMER only where the
# customer asked: a retailer's cancel counts against the retailer's performance score, and so does
# that code used without a customer's request.
REASON_CODES = {
    CancelReason.CUSTOMER_REQUEST: "REQUESTED_BY_CUSTOMER",
    CancelReason.OUT_OF_STOCK: "OUT_OF_STOCK",
    CancelReason.OTHER: "OTHER",
}


class BolCanceller:
    """`ChannelCanceller` over `PUT /retailer/orders/cancellation` (202 and a ProcessStatus, like shipments).

    The order is read first, so only items still open are sent: bol refuses a cancel of what it
    already cancelled or what shipped, and a retried delivery (bol accepted, the answer was lost)
    then finds nothing left to do. An item the customer asked to cancel goes as REQUESTED_BY_CUSTOMER
    even when we cancel the order for our own reason: it is the truth, and it spares the score. Bol
    sets an offer's stock to 0 when the retailer cancels (its seller guide says so), so our figure is
    sent again after (the spec's `cancel_touches_stock`). We return once bol accepted (202) and do not
    poll the process status.
    """

    def __init__(self, client: BolClient) -> None:
        self._client = client

    def cancel_order(self, notice: CancellationNotice) -> None:
        if not notice.line_ids:
            raise ChannelRejected(f"bol order {notice.order_external_id}: no orderItemIds to cancel")
        order = self._client.get_order(notice.order_external_id)
        items = {str(item.get("orderItemId")): item for item in order.get("orderItems") or [] if isinstance(item, dict)}
        unknown = [line_id for line_id in notice.line_ids if line_id not in items]
        if unknown:
            raise ChannelRejected(f"bol order {notice.order_external_id} has no items {', '.join(unknown)}")
        cancel = [
            {"orderItemId": line_id, "reasonCode": self._reason(items[line_id], notice.reason_kind)}
            for line_id in notice.line_ids
            if _open_units(items[line_id]) > 0
        ]
        if not cancel:
            log.info("bol order %s: nothing left open to cancel", notice.order_external_id)
            return
        status = self._client.cancel_order_items(cancel)
        process = status.get("processStatusId")
        log.info("bol accepted the cancellation of %s (process %s)", notice.order_external_id, process)

    @staticmethod
    def _reason(item: dict[str, Any], kind: CancelReason) -> str:
        if item.get("cancellationRequest") is True:
            return REASON_CODES[CancelReason.CUSTOMER_REQUEST]
        return REASON_CODES[kind]


def _open_units(item: dict[str, Any]) -> int:
    def count(key: str) -> int:
        value = item.get(key)
        return int(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else 0

    return count("quantity") - count("quantityShipped") - count("quantityCancelled")
