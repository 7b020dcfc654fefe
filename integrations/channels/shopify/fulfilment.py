"""Shopify status out: `fulfillmentCreate` on the order's open fulfillment orders, with carrier and tracking.

Reference: https://shopify.dev/docs/api/admin-graphql (mutations/fulfillmentCreate, objects/FulfillmentOrder).
`fulfillmentCreate` exists from 2024-10 (it replaces the deprecated `fulfillmentCreateV2`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from domain.channel_notices import ShipmentNotice, ShippedLine
from integrations.channels.errors import ChannelRejected
from integrations.channels.shopify.client import (
    AnswerModel,
    Connection,
    Ref,
    ShopifyAdminClient,
    legacy_id,
    parse_answer,
    shopify_gid,
)

log = logging.getLogger("oms.channels.shopify")

FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
# A fulfillment in any other status never reached the customer: it does not count as "already confirmed".
LIVE_FULFILLMENT = frozenset({"SUCCESS", "OPEN", "PENDING"})


class LineItemRef(AnswerModel):
    id: str
    sku: str | None = None


class FulfillmentOrderLine(AnswerModel):
    id: str
    remaining_quantity: int = Field(alias="remainingQuantity", ge=0)
    line_item: LineItemRef = Field(alias="lineItem")


class AssignedLocation(AnswerModel):
    location: Ref | None = None


class FulfillmentOrderNode(AnswerModel):
    id: str
    status: str
    assigned_location: AssignedLocation | None = Field(default=None, alias="assignedLocation")
    line_items: Connection[FulfillmentOrderLine] = Field(alias="lineItems")

    @property
    def location_id(self) -> str:
        location = self.assigned_location.location if self.assigned_location else None
        return location.id if location else ""


class TrackingInfo(AnswerModel):
    company: str | None = None
    number: str | None = None


class FulfillmentNode(AnswerModel):
    id: str
    status: str
    location: Ref | None = None
    tracking_info: list[TrackingInfo] = Field(default=[], alias="trackingInfo")


class OrderNode(AnswerModel):
    id: str
    fulfillments: list[FulfillmentNode] = []
    fulfillment_orders: Connection[FulfillmentOrderNode] = Field(alias="fulfillmentOrders")


ORDER_FULFILLMENT_ORDERS = """
query OmsOrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 20) { id status location { id } trackingInfo(first: 5) { company number } }
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id sku } } }
      }
    }
  }
}
"""

CREATE_FULFILLMENT = """
mutation OmsCreateFulfillment($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

Plan = dict[str, dict[str, int]]
"""fulfillment order gid → {fulfillment order line item gid → quantity}."""


def plan_fulfillment(lines: Sequence[ShippedLine], fulfillment_orders: Sequence[FulfillmentOrderNode]) -> Plan:
    """Place each shipped line on the open fulfillment order lines it belongs to.

    A line names its Shopify line item (`external_line_id`, numeric or gid) when it came from the
    webhook; only when no fulfillment order line carries that line item is it matched by SKU. Units
    with nothing left open (already fulfilled, cancelled, on hold) are left out, which makes a repeated
    confirmation of a full shipment a no-op.
    """
    remaining = {line.id: line.remaining_quantity for fo in fulfillment_orders for line in fo.line_items.nodes}
    every = [(fo, line) for fo in fulfillment_orders for line in fo.line_items.nodes]
    plan: Plan = {}
    for shipped in lines:
        wanted = legacy_id(shipped.external_line_id) if shipped.external_line_id else ""
        candidates = [(fo, line) for fo, line in every if wanted and legacy_id(line.line_item.id) == wanted]
        if not candidates:
            candidates = [(fo, line) for fo, line in every if (line.line_item.sku or "").strip() == shipped.sku]
        left = shipped.quantity
        for fo, line in candidates:
            take = min(left, remaining[line.id]) if fo.status in FULFILLABLE else 0
            if take > 0:
                plan.setdefault(fo.id, {})
                plan[fo.id][line.id] = plan[fo.id].get(line.id, 0) + take
                remaining[line.id] -= take
                left -= take
        if left:
            log.warning("shopify fulfilment: %d x %s has no open fulfillment order line", left, shipped.sku)
    return plan


class ShopifyShipmentConfirmer:
    """`ShipmentConfirmer` for Shopify: one `fulfillmentCreate` per location, with carrier and tracking.

    Idempotent enough for activity retries: units already fulfilled are not open any more, and a
    location that already has a live fulfillment with this tracking number is skipped (so a repeated
    partial shipment is not fulfilled twice). `notice.extra["tracking_url"]` is passed on when set.
    """

    def __init__(self, client: ShopifyAdminClient, *, notify_customer: bool = True) -> None:
        self._client = client
        self.notify_customer = notify_customer

    def confirm_shipment(self, notice: ShipmentNotice) -> None:
        order = self._order(notice.order_external_id)
        fulfillment_orders = order.fulfillment_orders.nodes
        plan = plan_fulfillment(notice.lines, fulfillment_orders)
        done = self._locations_with_tracking(order, notice.tracking_number)
        by_location: dict[str, Plan] = {}
        for fo in fulfillment_orders:
            if fo.id in plan and fo.location_id not in done:
                by_location.setdefault(fo.location_id, {})[fo.id] = plan[fo.id]
        if not by_location:
            log.info("shopify fulfilment: order %s has nothing left to fulfil for this shipment", order.id)
            return
        for group in by_location.values():
            data = self._client.graphql(CREATE_FULFILLMENT, {"fulfillment": self._fulfillment_input(group, notice)})
            created = (data.get("fulfillmentCreate") or {}).get("fulfillment") or {}
            log.info("shopify fulfilment: order %s fulfilled as %s", order.id, created.get("id", "?"))

    def _order(self, external_id: str) -> OrderNode:
        try:
            order_gid = shopify_gid("Order", external_id)
        except ValueError as exc:
            raise ChannelRejected(str(exc)) from exc
        data = self._client.graphql(ORDER_FULFILLMENT_ORDERS, {"id": order_gid})
        if not data.get("order"):
            raise ChannelRejected(f"Shopify has no order {order_gid}")
        order: OrderNode = parse_answer(OrderNode, data["order"], "order")
        return order

    @staticmethod
    def _locations_with_tracking(order: OrderNode, tracking_number: str) -> set[str]:
        if not tracking_number.strip():
            return set()
        return {
            (fulfillment.location.id if fulfillment.location else "")
            for fulfillment in order.fulfillments
            if fulfillment.status in LIVE_FULFILLMENT
            and any((info.number or "").strip() == tracking_number.strip() for info in fulfillment.tracking_info)
        }

    def _fulfillment_input(self, group: Plan, notice: ShipmentNotice) -> dict[str, Any]:
        tracking = {
            key: value
            for key, value in (
                ("company", notice.carrier.strip()),
                ("number", notice.tracking_number.strip()),
                ("url", notice.extra.get("tracking_url", "").strip()),
            )
            if value
        }
        request: dict[str, Any] = {
            "notifyCustomer": self.notify_customer,
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo_id,
                    "fulfillmentOrderLineItems": [{"id": line_id, "quantity": qty} for line_id, qty in lines.items()],
                }
                for fo_id, lines in group.items()
            ],
        }
        if tracking:
            request["trackingInfo"] = tracking
        return request
