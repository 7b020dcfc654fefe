"""Shopify cancellations out: `orderCancel` on an order we cancelled.

Reference: https://shopify.dev/docs/api/admin-graphql (mutations/orderCancel); `orderCancel` takes
`refundMethod` from 2025-07 (`refund` is deprecated).
"""

from __future__ import annotations

import logging
from typing import Any

from domain.cancellation import CancelReason
from domain.channel_notices import CancellationNotice
from integrations.channels.errors import ChannelRejected
from integrations.channels.shopify.client import ShopifyAdminClient, ShopifyUserErrors, at_least, shopify_gid

log = logging.getLogger("oms.channels.shopify")

REFUND_METHOD_SINCE = "2025-07"

ORDER_CANCEL_STATE = """
query OmsOrderCancelState($id: ID!) {
  order(id: $id) { id cancelledAt }
}
"""

CANCEL_ORDER = """
mutation OmsCancelOrder(%(variables)s) {
  orderCancel(%(arguments)s) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}
"""

# Shopify's OrderCancelReason for ours. STAFF means "staff made an error", which ours are not.
CANCEL_REASONS = {
    CancelReason.CUSTOMER_REQUEST: "CUSTOMER",
    CancelReason.OUT_OF_STOCK: "INVENTORY",
    CancelReason.OTHER: "OTHER",
}
STAFF_NOTE_LIMIT = 255
"""Our reason, kept to a line: the note sits on the order in the Shopify admin."""


class ShopifyCanceller:
    """`ChannelCanceller` for Shopify: `orderCancel` on an order we cancelled (never on one Shopify
    cancelled itself: that one reached us as the orders/cancelled webhook and is not sent back).

    The arguments, and why:
    - `refundMethod: {originalPaymentMethodsRefund: true}` (`refund: true` before 2025-07): when
      Shopify took the customer's money, nobody else will give it back, so the cancel refunds it the
      way it came; an authorization Shopify only holds is voided by the cancel anyway, and an order
      Shopify took no money for has nothing to refund. (Money our own gateway authorized was already
      voided by the order's saga.)
    - `restock: false`: we are the stock truth and the stock feed sets Shopify's *available*
      quantity absolutely; a restock would add the order's units on top of our figure until the next
      stock change, and Shopify could sell units we do not have.
    - `notifyCustomer: true`: the customer bought in the shop and hears from the shop, not from us.
    - `reason` from the kind (customer request → CUSTOMER, out of stock → INVENTORY, else OTHER) and
      our reason in words as the `staffNote` (not shown to the customer).

    The order is read first: one already cancelled (by a person in the admin, or by an earlier
    delivery whose answer was lost) is left alone, since `orderCancel` refuses a second cancel.
    Shopify cancels in a background job; we return once it is accepted and do not poll the job.
    """

    def __init__(self, client: ShopifyAdminClient, *, notify_customer: bool = True) -> None:
        self._client = client
        self.notify_customer = notify_customer

    def cancel_order(self, notice: CancellationNotice) -> None:
        try:
            order_gid = shopify_gid("Order", notice.order_external_id)
        except ValueError as exc:
            raise ChannelRejected(str(exc)) from exc
        data = self._client.graphql(ORDER_CANCEL_STATE, {"id": order_gid})
        order = data.get("order")
        if not isinstance(order, dict):
            raise ChannelRejected(f"Shopify has no order {order_gid}")
        if order.get("cancelledAt"):
            log.info("shopify order %s was already cancelled at %s", order_gid, order["cancelledAt"])
            return
        query, variables = self.cancel_request(order_gid, notice)
        data = self._client.graphql(query, variables)
        payload = data.get("orderCancel") or {}
        errors = payload.get("orderCancelUserErrors") if isinstance(payload, dict) else None
        if errors:
            raise ShopifyUserErrors("orderCancel", errors)
        job = payload.get("job") if isinstance(payload, dict) else None
        log.info("shopify accepted the cancellation of %s (job %s)", order_gid, (job or {}).get("id", "?"))

    def cancel_request(self, order_gid: str, notice: CancellationNotice) -> tuple[str, dict[str, Any]]:
        """The mutation and its variables for this API version."""
        variables: dict[str, Any] = {
            "orderId": order_gid,
            "reason": CANCEL_REASONS[notice.reason_kind],
            "restock": False,
            "notifyCustomer": self.notify_customer,
            "staffNote": f"Cancelled by the order management system: {notice.reason}"[:STAFF_NOTE_LIMIT],
        }
        types = {
            "orderId": "ID!",
            "reason": "OrderCancelReason!",
            "restock": "Boolean!",
            "notifyCustomer": "Boolean",
            "staffNote": "String",
        }
        if at_least(self._client.api_version, REFUND_METHOD_SINCE):
            variables["refundMethod"] = {"originalPaymentMethodsRefund": True}
            types["refundMethod"] = "OrderCancelRefundMethodInput"
        else:
            variables["refund"], types["refund"] = True, "Boolean!"
        query = CANCEL_ORDER % {
            "variables": ", ".join(f"${name}: {kind}" for name, kind in types.items()),
            "arguments": ", ".join(f"{name}: ${name}" for name in types),
        }
        return query, variables
