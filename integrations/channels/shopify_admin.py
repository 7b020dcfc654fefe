"""Shopify GraphQL Admin API: stock out (`inventorySetQuantities`) and status out (`fulfillmentCreate`,
`orderCancel`).

Orders come in by webhook (`integrations.channels.shopify`); this module talks back to the shop:
- `ShopifyAdminClient.graphql` posts to ``{shop}/admin/api/{version}/graphql.json`` and turns every way
  Shopify says no into the `ChannelError` family, including the two that arrive as HTTP 200: a
  ``THROTTLED`` GraphQL error (cost-based rate limit) and a mutation's ``userErrors``.
- `ShopifyStockFeed` sets the *available* quantity of the variant carrying a SKU at one location.
- `ShopifyShipmentConfirmer` fulfils the shipped lines on the order's open fulfillment orders.
- `ShopifyCanceller` cancels an order we cancelled (`orderCancel`).

Reference: https://shopify.dev/docs/api/admin-graphql (mutations/inventorySetQuantities,
mutations/fulfillmentCreate, objects/FulfillmentOrder, mutations/orderCancel) and
https://shopify.dev/docs/api/usage/limits. `fulfillmentCreate` exists from 2024-10 (it replaces the
deprecated `fulfillmentCreateV2`); `orderCancel` takes `refundMethod` from 2025-07 (`refund` is deprecated).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.cancellation import CancelReason
from integrations.channels.base import (
    CancellationNotice,
    ChannelAuthFailed,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
    ShipmentNotice,
    ShippedLine,
    retry_after_seconds,
)

log = logging.getLogger("oms.channels.shopify_admin")

DEFAULT_API_VERSION = "2025-10"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Versions from which `inventorySetQuantities` wants `changeFromQuantity` instead of `ignoreCompareQuantity`
# (2026-01 accepts it, 2026-04 requires it together with an `@idempotent` key).
CHANGE_FROM_QUANTITY_SINCE = "2026-01"
IDEMPOTENT_REQUIRED_SINCE = "2026-04"
REFUND_METHOD_SINCE = "2025-07"
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
# A fulfillment in any other status never reached the customer: it does not count as "already confirmed".
LIVE_FULFILLMENT = frozenset({"SUCCESS", "OPEN", "PENDING"})
_SHOPIFY_GID = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<id>\d+)$")
_PLAIN_SEARCH_VALUE = re.compile(r"^[A-Za-z0-9_./-]+$")


def shopify_gid(resource: str, value: str | int) -> str:
    """``gid://shopify/<resource>/<id>`` from a numeric id or the gid itself (checked, never guessed)."""
    text = str(value).strip()
    match = _SHOPIFY_GID.fullmatch(text)
    if match and match["type"] == resource:
        return text
    if text.isdigit():
        return f"gid://shopify/{resource}/{text}"
    raise ValueError(f"not a Shopify {resource} id: {text!r}")


def legacy_id(value: str) -> str:
    """The numeric tail of a gid (``gid://shopify/LineItem/13`` → ``13``); a number stays itself."""
    return value.strip().rsplit("/", 1)[-1]


def _at_least(api_version: str, since: str) -> bool:
    return api_version == "unstable" or api_version >= since  # "YYYY-MM" sorts as text


class ShopifyUserErrors(ChannelRejected):
    """A mutation answered with `userErrors`: Shopify understood the request and refused it."""

    def __init__(self, root_field: str, errors: Sequence[Mapping[str, Any]]) -> None:
        self.root_field = root_field
        self.user_errors = [dict(error) for error in errors]
        self.codes = frozenset(str(error["code"]) for error in self.user_errors if error.get("code"))
        details = "; ".join(_user_error_text(error) for error in self.user_errors)
        super().__init__(f"Shopify refused {root_field}: {details}")


def _user_error_text(error: Mapping[str, Any]) -> str:
    field = error.get("field")
    where = ".".join(str(part) for part in field) if isinstance(field, list) and field else ""
    message = str(error.get("message") or "no message")
    return f"{where}: {message}" if where else message


class ShopifyAdminClient:
    """One shop's GraphQL Admin API. Sync (activities run in threads); never retries or sleeps itself."""

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not shop_url.strip() or not access_token:
            raise ValueError("a Shopify shop URL and access token are required")
        base = shop_url.strip().rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        self.api_version = api_version
        self.endpoint = f"{base}/admin/api/{api_version}/graphql.json"
        self._http = httpx.Client(
            timeout=timeout,
            headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopifyAdminClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one query or mutation and return its `data`; raises a `ChannelError` for anything else."""
        try:
            response = self._http.post(self.endpoint, json={"query": query, "variables": dict(variables or {})})
        except httpx.TimeoutException as exc:
            raise ChannelUnavailable(f"Shopify did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(f"Shopify unreachable ({type(exc).__name__})") from exc
        _raise_for_status(response)
        try:
            body = json.loads(response.text, parse_float=Decimal)
        except ValueError as exc:  # a proxy's HTML page in front of a 200: treat as an outage
            raise ChannelUnavailable("Shopify answered with something that is not JSON") from exc
        if not isinstance(body, dict):
            raise ChannelUnavailable("Shopify answered with unexpected JSON")
        if body.get("errors"):
            raise _graphql_error(body["errors"], body.get("extensions"))
        data = body.get("data")
        if not isinstance(data, dict):
            raise ChannelUnavailable("Shopify answered without data")
        for root_field, payload in data.items():
            if isinstance(payload, dict) and payload.get("userErrors"):
                raise ShopifyUserErrors(root_field, payload["userErrors"])
        return data


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"Shopify answered {status}: {_error_text(response)}"
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise ChannelRateLimited(message, wait if wait is not None else _throttle_wait_in(response))
    if status in (401, 403):
        raise ChannelAuthFailed(message)
    if status >= 500:
        raise ChannelUnavailable(message)
    raise ChannelRejected(message)


def _throttle_wait_in(response: httpx.Response) -> float | None:
    """A 429 without Retry-After may still carry the GraphQL cost extension."""
    try:
        body = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return None
    return throttle_wait(body.get("extensions")) if isinstance(body, dict) else None


def _error_text(response: httpx.Response) -> str:
    """Shopify's own words: ``{"errors": "..."}``, ``{"errors": {field: [...]}}`` or a list of messages."""
    try:
        body = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return response.reason_phrase or "no details"
    errors = body.get("errors", body.get("error")) if isinstance(body, dict) else body
    if isinstance(errors, list):
        text = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    elif isinstance(errors, dict):
        text = "; ".join(f"{key}: {value}" for key, value in errors.items())
    else:
        text = str(errors) if errors else response.reason_phrase
    return text[:500] or "no details"


def _graphql_error(errors: Any, extensions: Any) -> ChannelError:
    items: list[Any] = errors if isinstance(errors, list) else [errors]
    codes: set[str] = set()
    messages: list[str] = []
    for raw in items:
        item: dict[str, Any] = raw if isinstance(raw, dict) else {"message": str(raw)}
        found = item.get("extensions")
        item_extensions: dict[str, Any] = found if isinstance(found, dict) else {}
        codes.add(str(item_extensions.get("code") or ""))
        messages.append(str(item.get("message") or "no message"))
        # The docs once nested the cost in the error's extensions; the API puts it at the top level.
        if not isinstance(extensions, dict) and "cost" in item_extensions:
            extensions = item_extensions
    text = "; ".join(messages)[:500]
    if "THROTTLED" in codes:
        return ChannelRateLimited(f"Shopify throttled the query: {text}", throttle_wait(extensions))
    if "ACCESS_DENIED" in codes:
        return ChannelAuthFailed(f"Shopify denied access (missing scope?): {text}")
    if codes & {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}:
        return ChannelUnavailable(f"Shopify failed: {text}")
    return ChannelRejected(f"Shopify refused the query: {text}")


def throttle_wait(extensions: Any) -> float | None:
    """Seconds until the leaky bucket holds the query's requested cost again.

    `extensions.cost` = {requestedQueryCost, throttleStatus: {currentlyAvailable, restoreRate, ...}}:
    the deficit refills at `restoreRate` points per second. At least one point's worth, so never 0.
    """
    try:
        cost = extensions["cost"]
        requested = Decimal(str(cost["requestedQueryCost"]))
        available = Decimal(str(cost["throttleStatus"]["currentlyAvailable"]))
        rate = Decimal(str(cost["throttleStatus"]["restoreRate"]))
    except (KeyError, TypeError, InvalidOperation):
        return None
    if not rate.is_finite() or rate <= 0:
        return None
    return float(max(requested - available, Decimal(1)) / rate)


# --- Response models: only the fields we select, extra ignored (a connection may come as nodes or edges).

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Connection(_Model, Generic[T]):
    nodes: list[T] = []

    @model_validator(mode="before")
    @classmethod
    def _edges_to_nodes(cls, value: Any) -> Any:
        if isinstance(value, dict) and "nodes" not in value and isinstance(value.get("edges"), list):
            return {"nodes": [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]}
        return value


class _Ref(_Model):
    id: str


class InventoryItemRef(_Ref):
    pass


class VariantNode(_Model):
    id: str
    sku: str | None = None
    inventory_item: InventoryItemRef | None = Field(default=None, alias="inventoryItem")


class LineItemRef(_Model):
    id: str
    sku: str | None = None


class FulfillmentOrderLine(_Model):
    id: str
    remaining_quantity: int = Field(alias="remainingQuantity", ge=0)
    line_item: LineItemRef = Field(alias="lineItem")


class AssignedLocation(_Model):
    location: _Ref | None = None


class FulfillmentOrderNode(_Model):
    id: str
    status: str
    assigned_location: AssignedLocation | None = Field(default=None, alias="assignedLocation")
    line_items: Connection[FulfillmentOrderLine] = Field(alias="lineItems")

    @property
    def location_id(self) -> str:
        location = self.assigned_location.location if self.assigned_location else None
        return location.id if location else ""


class TrackingInfo(_Model):
    company: str | None = None
    number: str | None = None


class FulfillmentNode(_Model):
    id: str
    status: str
    location: _Ref | None = None
    tracking_info: list[TrackingInfo] = Field(default=[], alias="trackingInfo")


class OrderNode(_Model):
    id: str
    fulfillments: list[FulfillmentNode] = []
    fulfillment_orders: Connection[FulfillmentOrderNode] = Field(alias="fulfillmentOrders")


def _parse(model: type[BaseModel], value: Any, what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise ChannelRejected(f"Shopify answered an unexpected {what}: {exc.error_count()} invalid field(s)") from exc


# --- Stock out.

VARIANT_BY_SKU = """
query OmsVariantBySku($query: String!) {
  productVariants(first: 10, query: $query) {
    nodes { id sku inventoryItem { id } }
  }
}
"""

SET_AVAILABLE = """
mutation OmsSetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input)%(directive)s {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""


def sku_search(sku: str) -> str:
    """Shopify search syntax for one SKU: quoted and escaped unless plain (letters, digits, ``-_./``)."""
    if _PLAIN_SEARCH_VALUE.fullmatch(sku):
        return f"sku:{sku}"
    escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
    return f'sku:"{escaped}"'


class ShopifyStockFeed:
    """`StockFeed` for Shopify: the variant's *available* quantity at one location becomes ours.

    We are the source of truth for what may be sold, so the level is set absolutely (no compare
    check) with reason "correction" and ``gid://oms/StockFeed/<sequence>`` as the reference document
    shown in the shop's inventory history. A SKU no variant carries is not listed on Shopify: the push
    is skipped (logged), as there is nothing to tell. A SKU on several variants is refused: each would
    be told the full quantity and the shop could oversell. Lookups are cached per SKU (hits only, so a
    SKU listed later is found); a refused set forgets the entry in case the variant was replaced.
    Negative ATP is sent as 0.
    """

    def __init__(self, client: ShopifyAdminClient, location_id: str | int) -> None:
        self._client = client
        self.location_id = shopify_gid("Location", location_id)
        self._inventory_items: dict[str, str] = {}

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        item = self.inventory_item_for(sku)
        if item is None:
            log.info("shopify stock: no variant has SKU %s, skipped", sku)
            return
        try:
            self._client.graphql(*self._set_available(item, max(quantity, 0), sequence))
        except ShopifyUserErrors:
            self._inventory_items.pop(sku, None)
            raise

    def inventory_item_for(self, sku: str) -> str | None:
        """The inventory item gid of the one variant with exactly this SKU, or None when unlisted."""
        cached = self._inventory_items.get(sku)
        if cached:
            return cached
        data = self._client.graphql(VARIANT_BY_SKU, {"query": sku_search(sku)})
        variants = _parse(Connection[VariantNode], data.get("productVariants") or {}, "variant list").nodes
        # Search matches loosely (case, tokens): only an exact SKU counts.
        items = {v.inventory_item.id for v in variants if (v.sku or "").strip() == sku.strip() and v.inventory_item}
        if len(items) > 1:
            raise ChannelRejected(f"SKU {sku} is on {len(items)} Shopify variants; give each its own SKU")
        if not items:
            return None
        found: str = items.pop()
        self._inventory_items[sku] = found
        return found

    def _set_available(self, item: str, quantity: int, sequence: int) -> tuple[str, dict[str, Any]]:
        version = self._client.api_version
        line: dict[str, Any] = {"inventoryItemId": item, "locationId": self.location_id, "quantity": quantity}
        request: dict[str, Any] = {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": f"gid://oms/StockFeed/{sequence}",
            "quantities": [line],
        }
        directive = ""
        if _at_least(version, CHANGE_FROM_QUANTITY_SINCE):
            line["changeFromQuantity"] = None  # null = no compare-and-swap: we are the source of truth
        else:
            request["ignoreCompareQuantity"] = True
        if _at_least(version, IDEMPOTENT_REQUIRED_SINCE):
            # Same push retried → same key → applied once; a different push never shares a key.
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"oms:{self.location_id}:{item}:{quantity}:{sequence}")
            directive = f' @idempotent(key: "{key}")'
        return SET_AVAILABLE % {"directive": directive}, {"input": request}


# --- Status out.

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
        order: OrderNode = _parse(OrderNode, data["order"], "order")
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


# --- Cancellations out.

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

    touches_stock = False

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
        if _at_least(self._client.api_version, REFUND_METHOD_SINCE):
            variables["refundMethod"] = {"originalPaymentMethodsRefund": True}
            types["refundMethod"] = "OrderCancelRefundMethodInput"
        else:
            variables["refund"], types["refund"] = True, "Boolean!"
        query = CANCEL_ORDER % {
            "variables": ", ".join(f"${name}: {kind}" for name, kind in types.items()),
            "arguments": ", ".join(f"{name}: ${name}" for name in types),
        }
        return query, variables
